package speaker

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
)

// Export shapes what one neighbour receives, on top of each announcement's
// own attributes. The zero Export sends every announcement of the session's
// families as it is, with the session's own address as next hop.
type Export struct {
	// Communities and LargeCommunities are added to every route sent.
	Communities      []uint32
	LargeCommunities []LargeCommunity
	// MED, when set, replaces the announcement's MED.
	MED *uint32
	// Prepend is how many more copies of the local ASN lead the AS path,
	// after the announcement's own prepends.
	Prepend int
	// NextHopIPv4 and NextHopIPv6 replace the next hop of the routes of
	// their family; zero means the session's own address.
	NextHopIPv4, NextHopIPv6 netip.Addr
	// Only, when non-nil, lists the only prefixes this neighbour receives;
	// an empty, non-nil list sends it nothing.
	Only []netip.Prefix
}

// normalized checks an export and puts it in canonical form.
func (e Export) normalized(peer string) (Export, error) {
	if e.Prepend < 0 || e.Prepend > MaxPrepend {
		return e, fmt.Errorf("peer %q: field Export.Prepend %q is outside 0..%d", peer, fmt.Sprint(e.Prepend), MaxPrepend)
	}
	if e.NextHopIPv4.IsValid() && (!e.NextHopIPv4.Is4() || e.NextHopIPv4.IsUnspecified()) {
		return e, fmt.Errorf("peer %q: field Export.NextHopIPv4 %q is not a usable IPv4 address", peer, e.NextHopIPv4.String())
	}
	if e.NextHopIPv6.IsValid() && (!e.NextHopIPv6.Is6() || e.NextHopIPv6.Is4In6() || e.NextHopIPv6.Zone() != "" || e.NextHopIPv6.IsUnspecified()) {
		return e, fmt.Errorf("peer %q: field Export.NextHopIPv6 %q is not a usable plain IPv6 address", peer, e.NextHopIPv6.String())
	}
	e.Communities = sortedOrNil(e.Communities, cmp.Compare[uint32])
	e.LargeCommunities = sortedOrNil(e.LargeCommunities, LargeCommunity.compare)
	if e.MED != nil {
		med := *e.MED
		e.MED = &med
	}
	if e.Only != nil {
		only := make([]netip.Prefix, 0, len(e.Only))
		for _, p := range e.Only {
			if !p.IsValid() || p.Masked() != p {
				return e, fmt.Errorf("peer %q: field Export.Only has %q, not a prefix without host bits", peer, p.String())
			}
			only = append(only, p)
		}
		slices.SortFunc(only, netip.Prefix.Compare)
		e.Only = slices.Compact(only)
	}
	return e, nil
}

// sortedOrNil is s sorted and de-duplicated, nil when empty.
func sortedOrNil[T comparable](s []T, cmp func(a, b T) int) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Compact(slices.SortedFunc(slices.Values(s), cmp))
}

// equal reports whether two normalized exports are the same.
func (e Export) equal(f Export) bool {
	if (e.MED == nil) != (f.MED == nil) || (e.MED != nil && *e.MED != *f.MED) {
		return false
	}
	return e.Prepend == f.Prepend && e.NextHopIPv4 == f.NextHopIPv4 && e.NextHopIPv6 == f.NextHopIPv6 &&
		slices.Equal(e.Communities, f.Communities) && slices.Equal(e.LargeCommunities, f.LargeCommunities) &&
		(e.Only == nil) == (f.Only == nil) && slices.Equal(e.Only, f.Only)
}

// sends reports whether a neighbour with this export receives prefix p
// (families aside).
func (e Export) sends(p netip.Prefix) bool {
	if e.Only == nil {
		return true
	}
	_, found := slices.BinarySearchFunc(e.Only, p, netip.Prefix.Compare)
	return found
}

// narrowed lists the prefixes of announced that was sent and now is not.
func narrowed(was, now Export, announced map[netip.Prefix]Announcement) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range sortedPrefixes(announced) {
		if was.sends(p) && !now.sends(p) {
			out = append(out, p)
		}
	}
	return out
}
