// Package dnssectest helps tests of DNSSEC key files written by BIND's
// tools.
package dnssectest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// KeyFileDS is the SHA-256 DS of the DNSKEY in the key file of zone's key
// in dir, as named by key's algorithm and tag: for a key dnssec-revoke
// rewrote, key with the REVOKE flag gives the DS of the revoked DNSKEY,
// which BIND's dnssec-dsfromkey does not print but tools digesting the
// DNSKEY as served (ldns-key2ds, a registry reading the zone) make.
func KeyFileDS(t testing.TB, dir, zone string, key *dns.DNSKEY) *dns.DS {
	t.Helper()
	file := filepath.Join(dir, fmt.Sprintf("K%s+%03d+%05d.key", zone, key.Algorithm, key.KeyTag()))
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var ds *dns.DS
	for line := range strings.Lines(string(text)) {
		if rr, err := dns.NewRR(line); err == nil && rr != nil {
			ds = rr.(*dns.DNSKEY).ToDS(dns.SHA256)
		}
	}
	if ds == nil || ds.KeyTag != key.KeyTag() {
		t.Fatalf("the DS of the key file %s: %v, want tag %d", file, ds, key.KeyTag())
	}
	return ds
}
