package dnssec

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestEveryAlgorithmSignsEveryRRset: every algorithm in the DNSKEY RRset
// must sign every RRset, the DNSKEY RRset included (RFC 4035 §2.2), so
// that a validator finds a signature of each algorithm it meets there.
// During an algorithm rollover (a CSK of one algorithm, a KSK and ZSK of
// the other) each algorithm signs with its own keys. A key set where a
// published algorithm cannot sign some RRset (a key of a new algorithm
// published ahead of its activation, or a KSK of one algorithm beside a
// ZSK of another) is refused as no key signing, naming the algorithm and
// its keys, so the zone keeps the keys it was signed with.
func TestEveryAlgorithmSignsEveryRRset(t *testing.T) {
	gen := func(t *testing.T, dir string, alg uint8, role Role, activate time.Time) *Key {
		t.Helper()
		k, err := Generate(dir, "example.com.", alg, role, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.SetTiming(Timing{Created: now, Publish: now, Activate: activate}); err != nil {
			t.Fatal(err)
		}
		return k
	}
	algorithms := func(keys []*Key) []uint8 {
		var out []uint8
		for _, k := range keys {
			if !slices.Contains(out, k.DNSKEY.Algorithm) {
				out = append(out, k.DNSKEY.Algorithm)
			}
		}
		slices.Sort(out)
		return out
	}
	want := []uint8{dns.ECDSAP256SHA256, dns.ED25519}

	t.Run("algorithm rollover", func(t *testing.T) {
		dir := t.TempDir()
		csk := gen(t, dir, dns.ECDSAP256SHA256, CSK, now)
		ksk := gen(t, dir, dns.ED25519, KSK, now)
		zsk := gen(t, dir, dns.ED25519, ZSK, now)
		s, err := NewSigner("example.com.", []*Key{csk, ksk, zsk}, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			typ  uint16
			want []*Key
		}{{dns.TypeDNSKEY, []*Key{csk, ksk}}, {dns.TypeA, []*Key{csk, zsk}}, {dns.TypeSOA, []*Key{csk, zsk}}} {
			got := s.signers(tc.typ, now)
			if !slices.Equal(algorithms(got), want) || len(got) != len(tc.want) {
				t.Errorf("%s signed by %v, want %v", dns.TypeToString[tc.typ], got, tc.want)
			}
			for _, k := range tc.want {
				if !slices.Contains(got, k) {
					t.Errorf("%s not signed by %v", dns.TypeToString[tc.typ], k)
				}
			}
		}
	})

	for _, tc := range []struct {
		name string
		// keys returns the key set and the key the error must name.
		keys func(t *testing.T, dir string) ([]*Key, *Key)
		want []string
	}{
		{"a new algorithm's key published ahead", func(t *testing.T, dir string) ([]*Key, *Key) {
			ahead := gen(t, dir, dns.ED25519, CSK, now.Add(48*time.Hour))
			return []*Key{gen(t, dir, dns.ECDSAP256SHA256, CSK, now), ahead}, ahead
		}, []string{"algorithm ED25519 is in the DNSKEY RRset", "signs neither the DNSKEY RRset nor the zone's data", "RFC 4035 §2.2"}},
		{"a KSK and a ZSK of two algorithms", func(t *testing.T, dir string) ([]*Key, *Key) {
			ksk := gen(t, dir, dns.ECDSAP256SHA256, KSK, now)
			return []*Key{ksk, gen(t, dir, dns.ED25519, ZSK, now)}, ksk
		}, []string{"algorithm ECDSAP256SHA256 is in the DNSKEY RRset", "no ZSK or CSK of it signs the zone's data"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, named := tc.keys(t, t.TempDir())
			_, err := NewSigner("example.com.", keys, now)
			if !errors.Is(err, ErrNoKeys) {
				t.Fatalf("NewSigner: %v, want no key signing", err)
			}
			for _, w := range append(tc.want, fmt.Sprintf("(key %d)", named.Tag())) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
