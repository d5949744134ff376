package dnssec

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

var now = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

func TestGenerateLoadSignVerify(t *testing.T) {
	for name, alg := range Algorithms {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			k, err := Generate(dir, "Example.COM", alg, CSK, now)
			if err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(k.File + ".private")
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("private file: %v, mode %v", err, st.Mode().Perm())
			}
			keys, err := LoadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			got := keys["example.com."]
			if len(got) != 1 || got[0].Tag() != k.Tag() || got[0].Role != CSK || !got[0].Publish.Equal(now) {
				t.Fatalf("loaded %v, want the generated key %s published at %v", got, k, now)
			}
			s, err := NewSigner("example.com.", got, now)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := dns.NewRR("www.example.com. 300 IN A 192.0.2.1")
			b, _ := dns.NewRR("www.example.com. 300 IN A 192.0.2.2")
			sigs, err := s.Sign([]dns.RR{a, b}, now)
			if err != nil || len(sigs) != 1 {
				t.Fatalf("Sign: %v, %d signatures", err, len(sigs))
			}
			sig := sigs[0].(*dns.RRSIG)
			if err := sig.Verify(got[0].DNSKEY, []dns.RR{b, a}); err != nil {
				t.Fatalf("the signature does not verify: %v", err)
			}
			if !sig.ValidityPeriod(now) || sig.ValidityPeriod(now.Add(DefaultValidity+time.Minute)) {
				t.Errorf("validity %d..%d does not hold now and end after %v", sig.Inception, sig.Expiration, DefaultValidity)
			}
			tampered, _ := dns.NewRR("www.example.com. 300 IN A 192.0.2.3")
			if err := sig.Verify(got[0].DNSKEY, []dns.RR{a, tampered}); err == nil {
				t.Fatal("a signature verifies over records it did not sign")
			}
			ds := got[0].DS()
			if ds.DigestType != dns.SHA256 || ds.KeyTag != k.Tag() || ds.Hdr.Name != "example.com." {
				t.Errorf("DS %v", ds)
			}
		})
	}
}

func TestKeyRolesSignWhatTheyShould(t *testing.T) {
	dir := t.TempDir()
	ksk, err := Generate(dir, "example.com.", dns.ECDSAP256SHA256, KSK, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSigner("example.com.", []*Key{ksk}, now); err == nil || !strings.Contains(err.Error(), "no active key") {
		t.Fatalf("a KSK alone: %v, want no active key", err)
	}
	zsk, err := Generate(dir, "example.com.", dns.ECDSAP256SHA256, ZSK, now)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner("example.com.", keys["example.com."], now)
	if err != nil {
		t.Fatal(err)
	}
	tagOf := func(t uint16) uint16 { return s.signers(t, now)[0].Tag() }
	if tagOf(dns.TypeDNSKEY) != ksk.Tag() || tagOf(dns.TypeA) != zsk.Tag() {
		t.Errorf("DNSKEY signed by %d (KSK %d), A by %d (ZSK %d)", tagOf(dns.TypeDNSKEY), ksk.Tag(), tagOf(dns.TypeA), zsk.Tag())
	}
	// A ZSK published ahead of its activation is in the DNSKEY RRset and
	// signs nothing yet.
	next, err := Generate(dir, "example.com.", dns.ECDSAP256SHA256, ZSK, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := next.SetTiming(Timing{Created: now, Publish: now, Activate: now.Add(48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	keys, err = LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Keys = keys["example.com."]
	if n := len(s.DNSKEYs(now, 3600)); n != 3 {
		t.Errorf("DNSKEY RRset of %d keys, want 3", n)
	}
	if signers := s.signers(dns.TypeA, now); len(signers) != 1 || signers[0].Tag() != zsk.Tag() {
		t.Errorf("A signed by %v, want the active ZSK %d alone", signers, zsk.Tag())
	}
}

func TestLoadDirRefusesWhatItCannotUse(t *testing.T) {
	dir := t.TempDir()
	k, err := Generate(dir, "example.com.", dns.ED25519, CSK, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(k.File+".private", 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), filepath.Base(k.File)+".private") || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable private key: %v", err)
	}
	os.Chmod(k.File+".private", 0o600)
	if err := os.WriteFile(k.File+".private", []byte("Private-key-format: v1.3\nAlgorithm: 15 (ED25519)\nPrivateKey: bm9wZQ==\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), filepath.Base(k.File)+".private") {
		t.Fatalf("damaged private key: %v", err)
	}
	if _, err := LoadDir(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing directory: %v", err)
	}
}

// TestCanonicalOrder checks the example of RFC 4034 section 6.1.
func TestCanonicalOrder(t *testing.T) {
	want := []string{
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.",
		"z.example.", "\\001.z.example.", "*.z.example.", "\\200.z.example.",
	}
	got := slices.Clone(want)
	slices.Reverse(got)
	slices.SortFunc(got, Compare)
	if !slices.Equal(got, want) {
		t.Errorf("canonical order:\n got %q\nwant %q", got, want)
	}
}

func TestChainCovers(t *testing.T) {
	c := NewChain("example.com.", map[string][]uint16{
		"example.com.":     {dns.TypeSOA, dns.TypeNS, dns.TypeDNSKEY},
		"www.example.com.": {dns.TypeA, dns.TypeAAAA},
		"b.example.com.":   {dns.TypeTXT},
	}, 60)
	var owners []string
	for _, n := range c.NSEC {
		owners = append(owners, n.Hdr.Name+">"+n.NextDomain)
	}
	if want := []string{"example.com.>b.example.com.", "b.example.com.>www.example.com.", "www.example.com.>example.com."}; !slices.Equal(owners, want) {
		t.Fatalf("chain %q, want %q", owners, want)
	}
	if got := c.NSEC[1].TypeBitMap; !slices.Equal(got, []uint16{dns.TypeTXT, dns.TypeRRSIG, dns.TypeNSEC}) {
		t.Errorf("b types %v", got)
	}
	for name, owner := range map[string]string{
		"www.example.com.": "www.example.com.", "c.example.com.": "b.example.com.",
		"a.example.com.": "example.com.", "zzz.example.com.": "www.example.com.", "x.www.example.com.": "www.example.com.",
	} {
		if got := c.Covering(name).Hdr.Name; got != owner {
			t.Errorf("Covering(%s) = %s, want %s", name, got, owner)
		}
	}
}
