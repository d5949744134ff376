package speaker

import (
	"fmt"
	"net/netip"
	"slices"
)

// Announcement is one prefix to announce and the attributes to send with it.
type Announcement struct {
	Prefix netip.Prefix
	// NextHop is the BGP next hop; zero means the session's local address.
	NextHop netip.Addr
	// Communities are RFC 1997 communities, ASN<<16|VALUE.
	Communities []uint32
	// LargeCommunities are RFC 8092 communities.
	LargeCommunities []LargeCommunity
	// MED is the multi-exit discriminator; nil sends none.
	MED *uint32
	// Prepend is how many extra copies of the local ASN lead the AS path.
	Prepend int
}

// MaxPrepend bounds Announcement.Prepend: longer AS paths only get a route
// filtered upstream.
const MaxPrepend = 16

// Check says why SetAnnouncements would refuse a set holding a, or nil
// when it takes a: a valid plain prefix without host bits, a next hop (if
// any) that is a plain address of the prefix's family, and 0 to MaxPrepend
// prepends. Callers that must not lose a whole set to one bad announcement
// check each one with it first.
func (a Announcement) Check() error {
	name := a.Prefix.String()
	if !a.Prefix.IsValid() {
		return fmt.Errorf("announcement %q: field Prefix is not a valid prefix", name)
	}
	addr := a.Prefix.Addr()
	if addr.Zone() != "" || addr.Is4In6() {
		return fmt.Errorf("announcement %q: field Prefix must be plain IPv4 or IPv6", name)
	}
	if m := a.Prefix.Masked(); m != a.Prefix {
		return fmt.Errorf("announcement %q: field Prefix has host bits set: did you mean %q?", name, m.String())
	}
	if a.NextHop.IsValid() && (FamilyOf(a.NextHop) != FamilyOf(addr) || a.NextHop.Is4In6() || a.NextHop.Zone() != "") {
		return fmt.Errorf("announcement %q: field NextHop %q is not a plain address of the prefix's family", name, a.NextHop.String())
	}
	if a.Prepend < 0 || a.Prepend > MaxPrepend {
		return fmt.Errorf("announcement %q: field Prepend %q is outside 0..%d", name, fmt.Sprint(a.Prepend), MaxPrepend)
	}
	return nil
}

// normalized checks an announcement and puts it in canonical form: an
// unspecified next hop made zero, communities sorted and de-duplicated,
// MED copied.
func (a Announcement) normalized() (Announcement, error) {
	if err := a.Check(); err != nil {
		return a, err
	}
	if a.NextHop.IsUnspecified() {
		a.NextHop = netip.Addr{}
	}
	if len(a.Communities) == 0 {
		a.Communities = nil
	} else {
		a.Communities = slices.Compact(slices.Sorted(slices.Values(a.Communities)))
	}
	if len(a.LargeCommunities) == 0 {
		a.LargeCommunities = nil
	} else {
		a.LargeCommunities = slices.Compact(slices.SortedFunc(slices.Values(a.LargeCommunities), LargeCommunity.compare))
	}
	if a.MED != nil {
		med := *a.MED
		a.MED = &med
	}
	return a, nil
}

// family is the family the announcement's prefix belongs to.
func (a Announcement) family() Family { return FamilyOf(a.Prefix.Addr()) }

// equal reports whether two normalized announcements carry the same route.
func (a Announcement) equal(b Announcement) bool {
	if a.Prefix != b.Prefix || a.NextHop != b.NextHop || a.Prepend != b.Prepend {
		return false
	}
	if (a.MED == nil) != (b.MED == nil) || (a.MED != nil && *a.MED != *b.MED) {
		return false
	}
	return slices.Equal(a.Communities, b.Communities) && slices.Equal(a.LargeCommunities, b.LargeCommunities)
}

// clone is a deep copy, so that callers cannot reach the speaker's state.
func (a Announcement) clone() Announcement {
	a.Communities = slices.Clone(a.Communities)
	a.LargeCommunities = slices.Clone(a.LargeCommunities)
	if a.MED != nil {
		med := *a.MED
		a.MED = &med
	}
	return a
}

// normalizeAnnouncements checks a full desired set and keys it by prefix.
func normalizeAnnouncements(anns []Announcement) (map[netip.Prefix]Announcement, error) {
	out := make(map[netip.Prefix]Announcement, len(anns))
	for _, a := range anns {
		n, err := a.normalized()
		if err != nil {
			return nil, err
		}
		if _, dup := out[n.Prefix]; dup {
			return nil, fmt.Errorf("announcement %q: listed twice: give each prefix once", n.Prefix.String())
		}
		out[n.Prefix] = n
	}
	return out, nil
}

// sortedPrefixes is the keys of m in address order (IPv4 first, then by
// address, then shorter first: netip.Prefix.Compare on prefixes without
// host bits).
func sortedPrefixes[V any](m map[netip.Prefix]V) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	slices.SortFunc(out, netip.Prefix.Compare)
	return out
}
