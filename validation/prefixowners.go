package validation

import (
	"net/netip"
	"slices"
	"sort"
)

// prefixOwners answers "which services have a prefix overlapping p" in
// O(log n + prefix length), so validating a large fleet is not quadratic
// in its number of prefixes.
type prefixOwners struct {
	exact  map[netip.Prefix][]string // owners of each prefix
	sorted []ownedPrefix             // every prefix, by address then length
}

type ownedPrefix struct {
	p     netip.Prefix
	owner string
}

func (x *prefixOwners) add(p netip.Prefix, owner string) {
	if x.exact == nil {
		x.exact = map[netip.Prefix][]string{}
	}
	x.exact[p] = append(x.exact[p], owner)
	x.sorted = append(x.sorted, ownedPrefix{p, owner})
}

// seal sorts the index; call it after the last add.
func (x *prefixOwners) seal() {
	sort.Slice(x.sorted, func(i, j int) bool {
		a, b := x.sorted[i].p, x.sorted[j].p
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c < 0
		}
		return a.Bits() < b.Bits()
	})
}

// overlapping returns the owners of every prefix that overlaps p (contains
// it, equals it or lies inside it), sorted and without repeats.
func (x *prefixOwners) overlapping(p netip.Prefix) []string {
	var out []string
	// Prefixes containing p, or equal to it: one exact look-up per length.
	for bits := 0; bits <= p.Bits(); bits++ {
		if q, err := p.Addr().Prefix(bits); err == nil {
			out = append(out, x.exact[q]...)
		}
	}
	// Prefixes inside p: a contiguous run of the sorted addresses.
	first := p.Masked().Addr()
	i := sort.Search(len(x.sorted), func(i int) bool { return x.sorted[i].p.Addr().Compare(first) >= 0 })
	for ; i < len(x.sorted) && p.Contains(x.sorted[i].p.Addr()); i++ {
		if x.sorted[i].p.Bits() > p.Bits() {
			out = append(out, x.sorted[i].owner)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
