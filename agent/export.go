package agent

import (
	"fmt"
	"net/netip"

	"github.com/anyctl/anyctl/agent/speaker"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// peerExport is what peer i receives on top of each service's attributes:
// its own communities, MED and prepends, its next hops, and which
// services' prefixes. A family carried over a session of the other family
// takes the PoP's next hop of that family unless the peer sets its own; a
// session's own family is sent from its local address unless the peer sets
// one.
func peerExport(i int, p *v1.BgpPeer, session netip.Addr, hops nextHops, services map[string][]netip.Prefix) (speaker.Export, error) {
	var e speaker.Export
	field := func(name string) string { return fmt.Sprintf("config peers[%d].%s", i, name) }
	ann := p.GetAnnounce()
	for j, c := range ann.GetCommunities() {
		v, err := parseCommunity(c)
		if err != nil {
			return e, fmt.Errorf("%s[%d] %q: %w", field("announce.communities"), j, c, err)
		}
		e.Communities = append(e.Communities, v)
	}
	for j, c := range ann.GetLargeCommunities() {
		v, err := parseLargeCommunity(c)
		if err != nil {
			return e, fmt.Errorf("%s[%d] %q: %w", field("announce.largeCommunities"), j, c, err)
		}
		e.LargeCommunities = append(e.LargeCommunities, v)
	}
	if ann != nil && ann.Med != nil {
		med := ann.GetMed()
		e.MED = &med
	}
	if n := ann.GetAsPathPrepend(); n > speaker.MaxPrepend {
		return e, fmt.Errorf("%s %d: above %d, more than the speaker sends", field("announce.asPathPrepend"), n, speaker.MaxPrepend)
	}
	e.Prepend = int(ann.GetAsPathPrepend())
	var err error
	if e.NextHopIPv4, err = parseNextHop(fmt.Sprintf("peers[%d].nextHopIpv4", i), p.GetNextHopIpv4(), netip.Addr.Is4); err != nil {
		return e, err
	}
	if e.NextHopIPv6, err = parseNextHop(fmt.Sprintf("peers[%d].nextHopIpv6", i), p.GetNextHopIpv6(), plainIPv6); err != nil {
		return e, err
	}
	if !e.NextHopIPv4.IsValid() && session.Is6() {
		e.NextHopIPv4 = hops.v4
	}
	if !e.NextHopIPv6.IsValid() && session.Is4() {
		e.NextHopIPv6 = hops.v6
	}
	switch {
	case ann.GetNoServices():
		e.Only = []netip.Prefix{}
	case len(ann.GetServices()) > 0:
		e.Only = []netip.Prefix{}
		for _, name := range ann.GetServices() {
			e.Only = append(e.Only, services[name]...)
		}
	}
	return e, nil
}

// plainIPv6 reports whether a is an IPv6 address with no zone and no IPv4
// mapping.
func plainIPv6(a netip.Addr) bool { return a.Is6() && !a.Is4In6() && a.Zone() == "" }
