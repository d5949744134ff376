package validation

import (
	"fmt"
	"net/netip"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
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
		case d < minHoldTime:
			r.add(path+".holdTime", d.String(), "below 3s: use 0 to disable keepalives, or at least 3s")
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
		if f == v1.AddressFamily_ADDRESS_FAMILY_IPV6_UNICAST && addr.Is4() && pop.GetNextHopIpv6() == "" {
			r.add(fpath, f.String(), "IPv6 on an IPv4 session needs spec.nextHopIpv6: a session cannot carry a family it has no next hop for")
		}
		if f == v1.AddressFamily_ADDRESS_FAMILY_IPV4_UNICAST && addr.Is6() && pop.GetNextHopIpv4() == "" {
			r.add(fpath, f.String(), "IPv4 on an IPv6 session needs spec.nextHopIpv4: a session cannot carry a family it has no next hop for")
		}
	}
	return addr, ok
}

// family names an address's family.
func family(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}
