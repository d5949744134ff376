package validation

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
)

func TestPrefixOwnersMatchesAScan(t *testing.T) {
	owned := map[string][]string{
		"a": {"192.0.2.0/24", "2001:db8::/32"},
		"b": {"192.0.2.128/25", "198.51.100.0/24"},
		"c": {"192.0.0.0/16", "2001:db8:1::/48"},
		"d": {"203.0.113.0/24"},
	}
	var x prefixOwners
	for owner, ps := range owned {
		for _, s := range ps {
			x.add(netip.MustParsePrefix(s), owner)
		}
	}
	x.seal()
	for _, s := range []string{"192.0.2.0/24", "192.0.2.0/25", "192.0.2.192/26", "192.0.0.0/8", "198.51.100.0/23",
		"203.0.113.0/24", "2001:db8:1::/48", "2001:db8:2::/48", "2001:db9::/32", "10.0.0.0/8", "::/0", "0.0.0.0/0"} {
		p := netip.MustParsePrefix(s)
		var want []string
		for owner, ps := range owned {
			for _, q := range ps {
				if netip.MustParsePrefix(q).Overlaps(p) {
					want = append(want, owner)
					break
				}
			}
		}
		slices.Sort(want)
		if got := x.overlapping(p); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("overlapping(%s) = %v, want %v", s, got, want)
		}
	}
}

func BenchmarkPrefixOwnersTenThousand(b *testing.B) {
	var x prefixOwners
	for i := range 10000 {
		x.add(netip.PrefixFrom(netip.AddrFrom4([4]byte{100, byte(64 + i/256), byte(i % 256), 0}), 24), fmt.Sprintf("svc-%d", i/100))
	}
	x.seal()
	b.ResetTimer()
	for b.Loop() {
		for _, op := range x.sorted {
			x.overlapping(op.p)
		}
	}
}
