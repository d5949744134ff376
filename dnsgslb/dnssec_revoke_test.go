package dnsgslb_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestRevokedKeyServedAndValidated serves a zone with two CSKs: one
// signing, the other retired (published, not signing) and given a Revoke
// time a few seconds ahead, as for a key held as a trust anchor (RFC
// 5011). At that second, without a signal, the server publishes the
// retired key with the REVOKE flag (flags 385, its new tag), and that key
// signs the DNSKEY RRset, a signature that verifies with the revoked
// DNSKEY, and nothing else; KeySets reports it as served. Validators
// nobody here wrote judge the zone: delv, with the signing key's DS as
// trust anchor, fully validates the DNSKEY RRset and an answer; unbound,
// holding both keys in an RFC 5011 trust anchor file, validates (AD) and
// records the retired key as revoked.
func TestRevokedKeyServedAndValidated(t *testing.T) {
	needDelv(t)
	bin, err := exec.LookPath("unbound")
	if err != nil {
		bin = "/usr/sbin/unbound"
		if _, err := os.Stat(bin); err != nil {
			t.Fatal("unbound is not installed (scripts/test-deps.sh installs the Debian package unbound)")
		}
	}
	dir := t.TempDir()
	start := time.Now().Add(-time.Minute)
	active, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, start)
	if err != nil {
		t.Fatal(err)
	}
	old, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, start)
	if err != nil {
		t.Fatal(err)
	}
	revokeAt := time.Now().Add(3 * time.Second).Truncate(time.Second)
	tm := old.Timing
	tm.Inactive, tm.Revoke = start.Add(30*time.Second).Truncate(time.Second), revokeAt
	if err := old.SetTiming(tm); err != nil {
		t.Fatal(err)
	}
	revoked := *old.DNSKEY
	revoked.Flags |= dns.REVOKE
	rtag := revoked.KeyTag()

	ts := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, gslbtest.RealZone()))
	dnskeys := func() (keys []*dns.DNSKEY, sigs []*dns.RRSIG) {
		t.Helper()
		m := msg(t, gslbtest.Zone, dns.TypeDNSKEY, "")
		m.SetEdns0(4096, true)
		for _, rr := range ts.exchange(t, "tcp", m).Answer {
			switch rr := rr.(type) {
			case *dns.DNSKEY:
				keys = append(keys, rr)
			case *dns.RRSIG:
				sigs = append(sigs, rr)
			}
		}
		return keys, sigs
	}
	tagsFlags := func(keys []*dns.DNSKEY) []string {
		var out []string
		for _, k := range keys {
			out = append(out, fmt.Sprintf("%d/%d", k.KeyTag(), k.Flags))
		}
		slices.Sort(out)
		return out
	}
	want := func(oldTag uint16, oldFlags int) []string {
		return slices.Sorted(slices.Values([]string{fmt.Sprintf("%d/257", active.Tag()), fmt.Sprintf("%d/%d", oldTag, oldFlags)}))
	}
	if keys, _ := dnskeys(); !slices.Equal(tagsFlags(keys), want(old.Tag(), 257)) {
		t.Fatalf("DNSKEY RRset before the Revoke time %q, want %q", tagsFlags(keys), want(old.Tag(), 257))
	}

	// The revocation takes effect at its second (the server wakes for
	// it), within a few seconds of build time.
	var keys []*dns.DNSKEY
	var sigs []*dns.RRSIG
	for deadline := revokeAt.Add(10 * time.Second); ; {
		keys, sigs = dnskeys()
		if slices.Equal(tagsFlags(keys), want(rtag, 385)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("DNSKEY RRset 10 s after the Revoke time %q, want %q", tagsFlags(keys), want(rtag, 385))
		}
		time.Sleep(100 * time.Millisecond)
	}
	rrset := make([]dns.RR, len(keys))
	for i, k := range keys {
		rrset[i] = k
	}
	var sigTags []uint16
	for _, sig := range sigs {
		sigTags = append(sigTags, sig.KeyTag)
		key := active.DNSKEY
		if sig.KeyTag == rtag {
			key = &revoked
		}
		if err := sig.Verify(key, rrset); err != nil {
			t.Errorf("RRSIG over the DNSKEY RRset by key %d: %v", sig.KeyTag, err)
		}
	}
	slices.Sort(sigTags)
	if wantTags := slices.Sorted(slices.Values([]uint16{active.Tag(), rtag})); !slices.Equal(sigTags, wantTags) {
		t.Errorf("DNSKEY RRset signed by keys %v, want %v: the active key and the revoked key, self-signed", sigTags, wantTags)
	}
	m := msg(t, "www."+gslbtest.Zone, dns.TypeA, "")
	m.SetEdns0(4096, true)
	for _, rr := range ts.exchange(t, "tcp", m).Answer {
		if sig, ok := rr.(*dns.RRSIG); ok && sig.KeyTag != active.Tag() {
			t.Errorf("www A signed by key %d: a revoked key signs only the DNSKEY RRset", sig.KeyTag)
		}
	}

	sets := ts.KeySets()
	if len(sets) != 1 {
		t.Fatalf("KeySets %+v, want one", sets)
	}
	var reported []string
	for _, k := range sets[0].Keys {
		reported = append(reported, fmt.Sprintf("%d/%d/%t", k.Tag, k.Flags, k.Signing))
	}
	slices.Sort(reported)
	if w := slices.Sorted(slices.Values([]string{fmt.Sprintf("%d/257/true", active.Tag()), fmt.Sprintf("%d/385/false", rtag)})); !slices.Equal(reported, w) {
		t.Errorf("KeySets keys (tag/flags/signing) %q, want %q", reported, w)
	}

	anchor := anchorFile(t, active)
	for _, q := range []struct{ name, qtype string }{{gslbtest.Zone, "DNSKEY"}, {"www." + gslbtest.Zone, "A"}} {
		if out := delv(t, ts, anchor, q.name, q.qtype); !strings.Contains(out, "; fully validated") {
			t.Errorf("delv %s %s with the active key's DS as trust anchor: want fully validated:\n%s", q.name, q.qtype, out)
		}
	}

	// unbound holds both keys, as before the revocation, in a trust
	// anchor file it keeps by RFC 5011.
	taFile := filepath.Join(t.TempDir(), "autotrust.key")
	ta := strings.ReplaceAll(active.DNSKEY.String()+"\n"+old.DNSKEY.String()+"\n", "\t", " ")
	if err := os.WriteFile(taFile, []byte(ta), 0o644); err != nil {
		t.Fatal(err)
	}
	addr, logPath := startUnboundConf(t, bin, map[string]string{gslbtest.Zone: ts.udp}, fmt.Sprintf("\tauto-trust-anchor-file: %q\n", taFile), "")
	m = new(dns.Msg)
	m.SetQuestion("www."+gslbtest.Zone, dns.TypeA)
	m.SetEdns0(1232, true)
	if r := exchangeRetry(t, addr, m, logPath); r.Rcode != dns.RcodeSuccess || !r.AuthenticatedData {
		t.Errorf("www A through unbound: rcode %s, AD %v; want NOERROR with AD\n%s", dns.RcodeToString[r.Rcode], r.AuthenticatedData, readLog(logPath))
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		b, _ := os.ReadFile(taFile)
		if line := revokedLine(string(b), old.Tag(), rtag); line != "" {
			t.Logf("unbound's trust anchor file: %s", line)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("unbound's trust anchor file does not say key %d (%d revoked) is revoked:\n%s\n%s", old.Tag(), rtag, b, readLog(logPath))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// revokedLine is the line of unbound's RFC 5011 trust anchor file that
// records the key of either tag as revoked, if any.
func revokedLine(file string, tags ...uint16) string {
	for _, line := range strings.Split(file, "\n") {
		if !strings.Contains(line, "REVOKED") {
			continue
		}
		for _, tag := range tags {
			if strings.Contains(line, fmt.Sprintf("id = %d ", tag)) {
				return line
			}
		}
	}
	return ""
}

// TestOnlyKeyRevokedIsHeld: a revoked key does not keep a zone signed. A
// zone whose only key is revoked (by a Revoke time, or by BIND's
// dnssec-revoke -r, which puts the revoked key's files in place of the
// old ones) has no key that signs: the server goes on signing it with the
// key as it was signed with, unrevoked, and says so.
func TestOnlyKeyRevokedIsHeld(t *testing.T) {
	for _, how := range []string{"Revoke time", "dnssec-revoke -r"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			k, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			ts := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, gslbtest.Snapshot()))
			switch how {
			case "Revoke time":
				tm := k.Timing
				tm.Revoke = time.Now().Add(-time.Second).Truncate(time.Second)
				if err := k.SetTiming(tm); err != nil {
					t.Fatal(err)
				}
			default:
				if out, err := exec.Command("dnssec-revoke", "-K", dir, "-r", filepath.Base(k.File)).CombinedOutput(); err != nil {
					t.Fatalf("dnssec-revoke: %v\n%s", err, out)
				}
			}
			err = ts.ReloadKeys(context.Background())
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("signing the zone with the keys it was signed with (%d)", k.Tag())) || !strings.Contains(err.Error(), "revoked") {
				t.Fatalf("ReloadKeys with the zone's only key revoked: %v, want the zone held, naming the revoked key", err)
			}
			m := msg(t, gslbtest.Zone, dns.TypeDNSKEY, "")
			m.SetEdns0(4096, true)
			var got []string
			for _, rr := range ts.exchange(t, "tcp", m).Answer {
				switch rr := rr.(type) {
				case *dns.DNSKEY:
					got = append(got, fmt.Sprintf("key %d/%d", rr.KeyTag(), rr.Flags))
				case *dns.RRSIG:
					got = append(got, fmt.Sprintf("sig %d", rr.KeyTag))
				}
			}
			slices.Sort(got)
			if want := []string{fmt.Sprintf("key %d/257", k.Tag()), fmt.Sprintf("sig %d", k.Tag())}; !slices.Equal(got, want) {
				t.Errorf("DNSKEY answer of the held zone %q, want %q", got, want)
			}
		})
	}
}
