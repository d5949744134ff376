package dnsgslb_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestDNSVizJudgesRevokedKey serves the signed test zone with a CSK that
// signs and one revoked (RFC 5011) beside it, and has dnsviz judge it:
// with the signing key as trust anchor, no errors, and the revoked key's
// self-signature over the DNSKEY RRset valid; with the revoked key,
// as it was before its revocation, as the only trust anchor, errors:
// nothing the zone serves lets a validator use it.
func TestDNSVizJudgesRevokedKey(t *testing.T) {
	needRoot(t, "dnsviz")
	if _, err := exec.LookPath("dnsviz"); err != nil {
		t.Fatal("dnsviz is missing: scripts/test-deps.sh installs the Debian package dnsviz")
	}
	dir := t.TempDir()
	start := time.Now().Add(-time.Hour)
	active, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, start)
	if err != nil {
		t.Fatal(err)
	}
	old, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, start)
	if err != nil {
		t.Fatal(err)
	}
	tm := old.Timing
	tm.Revoke = time.Now().Add(-time.Minute).Truncate(time.Second)
	if err := old.SetTiming(tm); err != nil {
		t.Fatal(err)
	}
	revoked := *old.DNSKEY
	revoked.Flags |= dns.REVOKE
	ts, n := dnsvizServe(t, dir)
	probe := dnsvizProbe(t, n, ts, nil)

	anchor := filepath.Join(t.TempDir(), "anchor.zone")
	if err := os.WriteFile(anchor, []byte(active.DNSKEY.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	errs, warnings, statuses := dnsvizGrok(t, probe, anchor)
	for _, w := range warnings {
		t.Logf("dnsviz warning: %s", w)
	}
	for _, e := range errs {
		t.Errorf("dnsviz error: %s", e)
	}
	// The revoked key signs the DNSKEY RRset, validly, and nothing else.
	sigID := fmt.Sprintf("/%d/%d]", revoked.Algorithm, revoked.KeyTag())
	selfSigned := false
	for where, st := range statuses {
		if !strings.Contains(where, "rrsig[") || !strings.HasSuffix(where, sigID) {
			continue
		}
		t.Logf("dnsviz: %s is %s", where, st)
		if !strings.Contains(where, "/IN/DNSKEY/") {
			t.Errorf("dnsviz: the revoked key signs %s", where)
		} else if st == "VALID" {
			selfSigned = true
		}
	}
	if !selfSigned {
		t.Errorf("dnsviz found no valid signature of the revoked key %d over the DNSKEY RRset", revoked.KeyTag())
	}

	if err := os.WriteFile(anchor, []byte(old.DNSKEY.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	errs, _, _ = dnsvizGrok(t, probe, anchor)
	if !hasCode(errs, "NO_TRUST_ANCHOR_SIGNING") {
		t.Errorf("dnsviz with the revoked key, as it was, as the only trust anchor: want NO_TRUST_ANCHOR_SIGNING, got %q", errs)
	}
}
