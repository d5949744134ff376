package validation

import (
	"fmt"
	"net/netip"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// Limits of a BGP session's settings.
const (
	minHoldTime = 3 * time.Second
	maxHoldTime = 65535 * time.Second
	maxTTL      = 255
)

// checkPeers applies the BgpPeer rules to each peer of a PoP, and refuses
// two peers at one address.
func checkPeers(r report, s *v1.PopSpec) {
	seen := map[netip.Addr]int{}
	for i, p := range s.GetPeers() {
		path := idx("spec.peers", i)
		addr, ok := checkPeer(r, path, p, s)
		if !ok {
			continue
		}
		if j, dup := seen[addr]; dup {
			r.addf(path+".address", p.GetAddress(), "duplicate of spec.peers[%d]", j)
			continue
		}
		seen[addr] = i
	}
}

// checkPeer checks one peer at path and returns its address when valid.
func checkPeer(r report, path string, p *v1.BgpPeer, pop *v1.PopSpec) (netip.Addr, bool) {
	addr, ok := checkAddr(r, path+".address", p.GetAddress())
	if port := p.GetPort(); port > 65535 {
		r.add(path+".port", fmt.Sprint(port), "outside 1..65535 (0 means 179)")
	}
	if err := CheckASN(p.GetPeerAsn()); err != nil {
		r.addErr(path+".peerAsn", "", err)
	}
	if d, set := checkDuration(r, path+".holdTime", p.GetHoldTime()); set {
		switch {
		case d == 0:
			r.add(path+".holdTime", d.String(), "0 (no keepalives) is not supported: the agent's BGP speaker always sends keepalives; leave holdTime out for 90s, or give 3s to 65535s")
		case d < minHoldTime:
			r.add(path+".holdTime", d.String(), "below 3s, the shortest BGP hold time")
		case d > maxHoldTime:
			r.add(path+".holdTime", d.String(), "above 65535s, the longest BGP hold time")
		case d%time.Second != 0:
			r.add(path+".holdTime", d.String(), "not whole seconds")
		}
	}
	if ttl := p.GetMultihopTtl(); ttl > maxTTL {
		r.add(path+".multihopTtl", fmt.Sprint(ttl), "above 255")
	}
	if la := p.GetLocalAddress(); la != "" {
		if local, lok := checkAddr(r, path+".localAddress", la); lok && ok && local.Is4() != addr.Is4() {
			r.addf(path+".localAddress", la, "%s, but the session address %q is %s: peer address family not matching its session",
				family(local), p.GetAddress(), family(addr))
		}
	}
	seen := map[v1.AddressFamily]bool{}
	for j, f := range p.GetFamilies() {
		fpath := idx(path+".families", j)
		switch f {
		case v1.AddressFamily_ADDRESS_FAMILY_UNSPECIFIED:
			r.add(fpath, f.String(), "unspecified: use ADDRESS_FAMILY_IPV4_UNICAST or ADDRESS_FAMILY_IPV6_UNICAST")
			continue
		case v1.AddressFamily_ADDRESS_FAMILY_IPV4_UNICAST, v1.AddressFamily_ADDRESS_FAMILY_IPV6_UNICAST:
		default:
			r.add(fpath, f.String(), "unknown address family")
			continue
		}
		if seen[f] {
			r.add(fpath, f.String(), "listed twice")
			continue
		}
		seen[f] = true
		if !ok {
			continue
		}
		if f == v1.AddressFamily_ADDRESS_FAMILY_IPV6_UNICAST && addr.Is4() && pop.GetNextHopIpv6() == "" && p.GetNextHopIpv6() == "" {
			r.addf(fpath, f.String(), "IPv6 on an IPv4 session needs %s.nextHopIpv6 (or spec.nextHopIpv6): a session cannot carry a family it has no next hop for", path)
		}
		if f == v1.AddressFamily_ADDRESS_FAMILY_IPV4_UNICAST && addr.Is6() && pop.GetNextHopIpv4() == "" && p.GetNextHopIpv4() == "" {
			r.addf(fpath, f.String(), "IPv4 on an IPv6 session needs %s.nextHopIpv4 (or spec.nextHopIpv4): a session cannot carry a family it has no next hop for", path)
		}
	}
	checkNextHop(r, path+".nextHopIpv4", p.GetNextHopIpv4(), true)
	checkNextHop(r, path+".nextHopIpv6", p.GetNextHopIpv6(), false)
	if n := p.GetMaxPrefixesIn(); n > maxPrefixesIn {
		r.addf(path+".maxPrefixesIn", fmt.Sprint(n), "above %d: a PoP needs a default route and a few more, not a full table", maxPrefixesIn)
	}
	checkPeerAnnounce(r, path+".announce", p.GetAnnounce())
	return addr, ok
}

// maxPrefixesIn bounds a peer's inbound cap.
const maxPrefixesIn = 100000

// checkNextHop checks a next hop of one family at path; empty is allowed.
func checkNextHop(r report, path, nh string, v4 bool) {
	if nh == "" {
		return
	}
	a, ok := checkAddr(r, path, nh)
	switch {
	case !ok:
	case v4 && !a.Is4():
		r.add(path, nh, "not an IPv4 address")
	case !v4 && !a.Is6():
		r.add(path, nh, "not an IPv6 address")
	}
}

// checkPeerAnnounce applies the rules of a peer's announcement policy.
func checkPeerAnnounce(r report, path string, a *v1.PeerAnnounce) {
	checkCommunities(r, path, a.GetCommunities(), a.GetLargeCommunities())
	if n := a.GetAsPathPrepend(); n > MaxAsPathPrepend {
		r.addf(path+".asPathPrepend", fmt.Sprint(n), "at most %d", MaxAsPathPrepend)
	}
	checkNameList(r, path+".services", a.GetServices())
	if a.GetNoServices() && len(a.GetServices()) > 0 {
		r.add(path+".noServices", "true", "contradicts services: give the services this peer gets, or noServices for none")
	}
}

// crossPop checks that the services a Pop's peers name exist.
func crossPop(r report, p *v1.Pop, st *resource.State) {
	for i, peer := range p.GetSpec().GetPeers() {
		for j, name := range peer.GetAnnounce().GetServices() {
			if _, ok := st.Services[name]; name != "" && !ok {
				e := r.add(idx(idx("spec.peers", i)+".announce.services", j), name, "unknown AnycastService")
				e.refTo = resource.Ref{Kind: v1.Kind_KIND_ANYCAST_SERVICE, Name: name}
			}
		}
	}
}

// family names an address's family.
func family(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}
