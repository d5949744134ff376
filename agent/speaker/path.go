package speaker

import (
	"fmt"
	"time"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
)

// apiPath is the GoBGP path for a normalized announcement from localASN.
//
// A zero next hop is sent to GoBGP as 0.0.0.0 or ::, which GoBGP replaces
// on export with each session's local address. The AS path holds the local
// ASN Prepend times; GoBGP adds it once more on eBGP export.
func apiPath(a Announcement, localASN uint32, withdraw bool) (*api.Path, error) {
	var nlri bgp.AddrPrefixInterface
	nextHop := "0.0.0.0"
	bits := uint8(a.Prefix.Bits())
	if a.family() == IPv6Unicast {
		nextHop = "::"
		nlri = bgp.NewIPv6AddrPrefix(bits, a.Prefix.Addr().String())
	} else {
		nlri = bgp.NewIPAddrPrefix(bits, a.Prefix.Addr().String())
	}
	if a.NextHop.IsValid() {
		nextHop = a.NextHop.String()
	}

	var segments []bgp.AsPathParamInterface
	if a.Prepend > 0 {
		asns := make([]uint32, a.Prepend)
		for i := range asns {
			asns[i] = localASN
		}
		segments = []bgp.AsPathParamInterface{bgp.NewAs4PathParam(bgp.BGP_ASPATH_ATTR_TYPE_SEQ, asns)}
	}
	attrs := []bgp.PathAttributeInterface{
		bgp.NewPathAttributeOrigin(bgp.BGP_ORIGIN_ATTR_TYPE_IGP),
		bgp.NewPathAttributeAsPath(segments),
	}
	if a.family() == IPv6Unicast {
		attrs = append(attrs, bgp.NewPathAttributeMpReachNLRI(nextHop, []bgp.AddrPrefixInterface{nlri}))
	} else {
		attrs = append(attrs, bgp.NewPathAttributeNextHop(nextHop))
	}
	if a.MED != nil {
		attrs = append(attrs, bgp.NewPathAttributeMultiExitDisc(*a.MED))
	}
	if len(a.Communities) > 0 {
		attrs = append(attrs, bgp.NewPathAttributeCommunities(a.Communities))
	}
	if len(a.LargeCommunities) > 0 {
		lcs := make([]*bgp.LargeCommunity, len(a.LargeCommunities))
		for i, c := range a.LargeCommunities {
			lcs[i] = bgp.NewLargeCommunity(c.Global, c.Local1, c.Local2)
		}
		attrs = append(attrs, bgp.NewPathAttributeLargeCommunities(lcs))
	}
	p, err := apiutil.NewPath(nlri, withdraw, attrs, time.Now())
	if err != nil {
		return nil, fmt.Errorf("announcement %q: encoding for GoBGP: %w", a.Prefix.String(), err)
	}
	return p, nil
}
