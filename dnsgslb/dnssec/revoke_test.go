package dnssec

import (
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func needBINDTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is missing: make test-deps installs bind9-utils", name)
	}
}

// bindTool runs one of BIND's key tools, which nobody here wrote, on the
// key directory dir.
func bindTool(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	needBINDTool(t, name)
	if out, err := exec.Command(name, append([]string{"-K", dir}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// revokedForm is the DNSKEY of k with the REVOKE flag, as served once k
// is revoked (RFC 5011 §2.1): another key tag.
func revokedForm(k *Key) *dns.DNSKEY {
	c := *k.DNSKEY
	c.Flags |= dns.REVOKE
	return &c
}

// TestRevokedKeySignsOnlyTheDNSKEYRRset revokes one of a zone's two CSKs
// the three ways BIND does (dnssec-settime -R, which writes a Revoke
// time; dnssec-revoke, which writes the key again with the REVOKE flag
// under its new tag, beside the old files or, with -r, in their place).
// From then the key is published with the REVOKE flag (flags 385, its
// tag changed), once, and signs the DNSKEY RRset that holds it, a
// signature that verifies with the revoked DNSKEY (RFC 5011 §2.1), and
// nothing else; the other key signs everything.
func TestRevokedKeySignsOnlyTheDNSKEYRRset(t *testing.T) {
	for _, how := range []string{"settime -R", "revoke", "revoke -r"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			active, err := Generate(dir, "example.com.", dns.ECDSAP256SHA256, CSK, now.Add(-48*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			old, err := Generate(dir, "example.com.", dns.ECDSAP256SHA256, CSK, now.Add(-48*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			switch how {
			case "settime -R":
				bindTool(t, dir, "dnssec-settime", "-R", now.Add(-time.Hour).Format(timeLayout), filepath.Base(old.File))
			case "revoke":
				bindTool(t, dir, "dnssec-revoke", filepath.Base(old.File))
			case "revoke -r":
				bindTool(t, dir, "dnssec-revoke", "-r", filepath.Base(old.File))
			}
			keys, err := LoadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewSigner("example.com.", keys["example.com."], now)
			if err != nil {
				t.Fatal(err)
			}
			revoked := revokedForm(old)
			dnskeys := s.DNSKEYs(now, 3600)
			var got []string
			for _, rr := range dnskeys {
				k := rr.(*dns.DNSKEY)
				got = append(got, fmt.Sprintf("%d/%d", k.KeyTag(), k.Flags))
			}
			slices.Sort(got)
			want := []string{fmt.Sprintf("%d/257", active.Tag()), fmt.Sprintf("%d/385", revoked.KeyTag())}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("DNSKEY RRset (tag/flags) %q, want %q", got, want)
			}

			sigs, err := s.Sign(dnskeys, now)
			if err != nil {
				t.Fatal(err)
			}
			byTag := map[uint16]*dns.RRSIG{}
			for _, rr := range sigs {
				byTag[rr.(*dns.RRSIG).KeyTag] = rr.(*dns.RRSIG)
			}
			if len(sigs) != 2 || byTag[active.Tag()] == nil || byTag[revoked.KeyTag()] == nil {
				t.Fatalf("DNSKEY RRset signed by %d key(s), tags %v: want the active key %d and the revoked key %d", len(sigs), slices.Sorted(maps.Keys(byTag)), active.Tag(), revoked.KeyTag())
			}
			if err := byTag[revoked.KeyTag()].Verify(revoked, dnskeys); err != nil {
				t.Errorf("the revoked key's signature over the DNSKEY RRset does not verify with the revoked DNSKEY: %v", err)
			}
			if err := byTag[active.Tag()].Verify(active.DNSKEY, dnskeys); err != nil {
				t.Errorf("the active key's signature over the DNSKEY RRset: %v", err)
			}

			soa := []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: "example.com.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 300}, Ns: "ns.example.com.", Mbox: "h.example.com.", Serial: 1}}
			sigs, err = s.Sign(soa, now)
			if err != nil {
				t.Fatal(err)
			}
			if len(sigs) != 1 || sigs[0].(*dns.RRSIG).KeyTag != active.Tag() {
				t.Errorf("SOA signed by %v, want the active key %d alone", sigs, active.Tag())
			}
		})
	}
}

// TestRevokeTimeTakesEffect: a Revoke time ahead leaves the key as it is
// until then, and is the key's next event.
func TestRevokeTimeTakesEffect(t *testing.T) {
	dir := t.TempDir()
	if _, err := Generate(dir, "example.com.", dns.ED25519, CSK, now.Add(-48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	old, err := Generate(dir, "example.com.", dns.ED25519, KSK, now.Add(-48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	at := now.Add(time.Hour)
	bindTool(t, dir, "dnssec-settime", "-R", at.Format(timeLayout), filepath.Base(old.File))
	keys, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	zk := keys["example.com."]
	i := slices.IndexFunc(zk, func(k *Key) bool { return k.File == old.File })
	if got := zk[i].NextEvent(now); !got.Equal(at) {
		t.Errorf("next event of the key to revoke: %v, want its Revoke time %v", got, at)
	}
	s, err := NewSigner("example.com.", zk, now)
	if err != nil {
		t.Fatal(err)
	}
	flags := func(when time.Time) []uint16 {
		var out []uint16
		for _, rr := range s.DNSKEYs(when, 3600) {
			out = append(out, rr.(*dns.DNSKEY).Flags)
		}
		slices.Sort(out)
		return out
	}
	if got := flags(now); !slices.Equal(got, []uint16{257, 257}) {
		t.Errorf("flags before the Revoke time %v, want [257 257]", got)
	}
	if got := flags(at); !slices.Equal(got, []uint16{257, 385}) {
		t.Errorf("flags from the Revoke time %v, want [257 385]", got)
	}
}

// TestRevokedKeysDoNotKeepAZoneSigned: a revoked key signs only the
// DNSKEY RRset, so a zone whose only signing key is revoked has no key
// that signs (ErrNoKeys: a served zone goes on with the keys it was
// signed with), and so does an algorithm whose only key is revoked:
// it stays in the DNSKEY RRset, and every algorithm there must sign
// every RRset (RFC 4035 §2.2), with a key a validator may use. A revoked
// key beside an active key of its algorithm is the RFC 5011 case, and
// signs.
func TestRevokedKeysDoNotKeepAZoneSigned(t *testing.T) {
	revokedAt := now.Add(-time.Hour).Format(timeLayout)
	gen := func(t *testing.T, dir string, alg uint8, revoke bool) *Key {
		t.Helper()
		k, err := Generate(dir, "example.com.", alg, CSK, now.Add(-48*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if revoke {
			bindTool(t, dir, "dnssec-settime", "-R", revokedAt, filepath.Base(k.File))
		}
		return k
	}
	load := func(t *testing.T, dir string) []*Key {
		t.Helper()
		keys, err := LoadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		return keys["example.com."]
	}

	t.Run("only key revoked", func(t *testing.T) {
		dir := t.TempDir()
		gen(t, dir, dns.ECDSAP256SHA256, true)
		if _, err := NewSigner("example.com.", load(t, dir), now); !errors.Is(err, ErrNoKeys) {
			t.Errorf("NewSigner: %v, want ErrNoKeys", err)
		}
	})
	t.Run("only key of an algorithm revoked", func(t *testing.T) {
		dir := t.TempDir()
		gen(t, dir, dns.ECDSAP256SHA256, false)
		gone := gen(t, dir, dns.ED25519, true)
		_, err := NewSigner("example.com.", load(t, dir), now)
		if !errors.Is(err, ErrNoKeys) || !strings.Contains(err.Error(), "ED25519") || !strings.Contains(err.Error(), fmt.Sprint(revokedForm(gone).KeyTag())) {
			t.Errorf("NewSigner: %v, want ErrNoKeys naming ED25519 and the revoked key's tag %d", err, revokedForm(gone).KeyTag())
		}
	})
	t.Run("revoked beside an active key of its algorithm", func(t *testing.T) {
		dir := t.TempDir()
		gen(t, dir, dns.ECDSAP256SHA256, false)
		gen(t, dir, dns.ED25519, false)
		gen(t, dir, dns.ED25519, true)
		if _, err := NewSigner("example.com.", load(t, dir), now); err != nil {
			t.Errorf("NewSigner: %v", err)
		}
	})
}

// TestBINDReadsOurRevokeTime has BIND's dnssec-settime print the Revoke
// time of a key whose timing SetTiming wrote.
func TestBINDReadsOurRevokeTime(t *testing.T) {
	needBINDTool(t, "dnssec-settime")
	dir := t.TempDir()
	k, err := Generate(dir, "example.com.", dns.ECDSAP256SHA256, KSK, now)
	if err != nil {
		t.Fatal(err)
	}
	tm := k.Timing
	tm.Revoke = now.Add(30 * time.Hour)
	if err := k.SetTiming(tm); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("dnssec-settime", "-K", dir, "-u", "-p", "R", filepath.Base(k.File)).CombinedOutput()
	if err != nil {
		t.Fatalf("dnssec-settime: %v\n%s", err, out)
	}
	if want := fmt.Sprintf("Revoke: %d", tm.Revoke.Unix()); strings.TrimSpace(string(out)) != want {
		t.Errorf("dnssec-settime -p R: %q, want %q", out, want)
	}
}

// TestHoldKeepsARevokedKeyRevoked: a zone held (its keys all stopped
// signing) goes on with the DNSKEY RRset it had, a key revoked then
// still revoked and self-signed, whatever its timing says after.
func TestHoldKeepsARevokedKeyRevoked(t *testing.T) {
	dir := t.TempDir()
	active, err := Generate(dir, "example.com.", dns.ECDSAP256SHA256, CSK, now.Add(-48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	old, err := Generate(dir, "example.com.", dns.ECDSAP256SHA256, CSK, now.Add(-48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tm := old.Timing
	tm.Revoke, tm.Delete = now.Add(-time.Hour), now.Add(time.Hour)
	if err := old.SetTiming(tm); err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner("example.com.", []*Key{active, old}, now)
	if err != nil {
		t.Fatal(err)
	}
	later := now.Add(24 * time.Hour)
	h := Hold(s, now)
	dnskeys := h.DNSKEYs(later, 3600)
	var got []string
	for _, rr := range dnskeys {
		got = append(got, fmt.Sprintf("%d/%d", rr.(*dns.DNSKEY).KeyTag(), rr.(*dns.DNSKEY).Flags))
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values([]string{fmt.Sprintf("%d/257", active.Tag()), fmt.Sprintf("%d/385", revokedForm(old).KeyTag())}))
	if !slices.Equal(got, want) {
		t.Errorf("held DNSKEY RRset a day later %q, want %q", got, want)
	}
	sigs, err := h.Sign(dnskeys, later)
	if err != nil || len(sigs) != 2 {
		t.Errorf("held DNSKEY RRset signed by %v (%v), want the active key and the revoked one", sigs, err)
	}
}
