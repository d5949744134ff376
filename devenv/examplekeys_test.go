package devenv

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
)

// TestExampleKeysAnchorASigningKey: the trust anchor dev writes is the DS
// of a key that signs, not of one revoked (RFC 5011), whose DS matches no
// DNSKEY served.
func TestExampleKeysAnchorASigningKey(t *testing.T) {
	dir := t.TempDir()
	k, err := dnssec.Generate(dir, exampleZone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tm := k.Timing
	tm.Revoke = time.Now().Add(-time.Minute).Truncate(time.Second)
	if err := k.SetTiming(tm); err != nil {
		t.Fatal(err)
	}
	ds, _, err := exampleKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(ds, k.DS().String()) {
		t.Errorf("trust anchor %s is the revoked key's DS", ds)
	}
}
