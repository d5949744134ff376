package speakertest

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/anyctl/anyctl/agent/speaker"
	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
)

// Route is a path in the router's RIB, as the router received it.
type Route struct {
	Prefix           netip.Prefix
	NextHop          netip.Addr
	ASPath           []uint32
	Communities      []uint32
	LargeCommunities []speaker.LargeCommunity
	MED              *uint32
	// From is the neighbour the route was learned from.
	From netip.Addr
	// Stale is set while the router keeps the route for a neighbour that is
	// restarting (RFC 4724).
	Stale bool
}

// CountAS is how many times asn appears in the AS path.
func (r Route) CountAS(asn uint32) int {
	n := 0
	for _, a := range r.ASPath {
		if a == asn {
			n++
		}
	}
	return n
}

// HasCommunity reports whether the route carries community c.
func (r Route) HasCommunity(c uint32) bool {
	for _, have := range r.Communities {
		if have == c {
			return true
		}
	}
	return false
}

// String is a one-line summary for test failures.
func (r Route) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s via %s from %s as-path %v", r.Prefix, r.NextHop, r.From, r.ASPath)
	if r.Stale {
		b.WriteString(" (stale)")
	}
	if len(r.Communities) > 0 {
		cs := make([]string, len(r.Communities))
		for i, c := range r.Communities {
			cs[i] = speaker.FormatCommunity(c)
		}
		fmt.Fprintf(&b, " communities %v", cs)
	}
	if len(r.LargeCommunities) > 0 {
		fmt.Fprintf(&b, " large-communities %v", r.LargeCommunities)
	}
	if r.MED != nil {
		fmt.Fprintf(&b, " med %d", *r.MED)
	}
	return b.String()
}

// routeFromAPI decodes a GoBGP path.
func routeFromAPI(p *api.Path) (Route, error) {
	nlri, err := apiutil.GetNativeNlri(p)
	if err != nil {
		return Route{}, fmt.Errorf("decoding NLRI: %w", err)
	}
	r := Route{Stale: p.Stale}
	if r.Prefix, err = netip.ParsePrefix(nlri.String()); err != nil {
		return Route{}, fmt.Errorf("NLRI %q: %w", nlri.String(), err)
	}
	if p.NeighborIp != "" {
		if r.From, err = netip.ParseAddr(p.NeighborIp); err != nil {
			return Route{}, fmt.Errorf("route %s: neighbour %q: %w", r.Prefix, p.NeighborIp, err)
		}
	}
	attrs, err := apiutil.GetNativePathAttributes(p)
	if err != nil {
		return Route{}, fmt.Errorf("route %s: decoding attributes: %w", r.Prefix, err)
	}
	for _, a := range attrs {
		switch a := a.(type) {
		case *bgp.PathAttributeNextHop:
			r.NextHop = addrOf(a.Value)
		case *bgp.PathAttributeMpReachNLRI:
			r.NextHop = addrOf(a.Nexthop)
		case *bgp.PathAttributeAsPath:
			for _, seg := range a.Value {
				r.ASPath = append(r.ASPath, seg.GetAS()...)
			}
		case *bgp.PathAttributeCommunities:
			r.Communities = append(r.Communities, a.Value...)
		case *bgp.PathAttributeLargeCommunities:
			for _, c := range a.Values {
				r.LargeCommunities = append(r.LargeCommunities, speaker.LargeCommunity{Global: c.ASN, Local1: c.LocalData1, Local2: c.LocalData2})
			}
		case *bgp.PathAttributeMultiExitDisc:
			med := a.Value
			r.MED = &med
		}
	}
	return r, nil
}

// addrOf converts, keeping IPv4 addresses IPv4.
func addrOf(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}
