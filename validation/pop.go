package validation

import (
	"net/netip"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// checkPop applies the per-object rules of a Pop.
func checkPop(r report, p *v1.Pop) {
	s := p.GetSpec()
	if s == nil {
		r.add("spec", "", "required")
		return
	}
	checkLocation(r, "spec.location", s.GetLocation())
	if err := CheckASN(s.GetLocalAsn()); err != nil {
		r.addErr("spec.localAsn", "", err)
	}
	checkRouterID(r, s.GetRouterId())
	seen := map[netip.Addr]int{}
	for i, a := range s.GetUnicastAddresses() {
		path := idx("spec.unicastAddresses", i)
		if addr, ok := checkAddr(r, path, a); ok {
			if j, dup := seen[addr]; dup {
				r.addf(path, a, "duplicate of spec.unicastAddresses[%d]", j)
			} else {
				seen[addr] = i
			}
		}
	}
	for i, n := range s.GetCacheNetworks() {
		checkNetwork(r, idx("spec.cacheNetworks", i), n)
	}
	checkNextHop(r, "spec.nextHopIpv4", s.GetNextHopIpv4(), true)
	checkNextHop(r, "spec.nextHopIpv6", s.GetNextHopIpv6(), false)
	checkPeers(r, s)
}

// checkRouterID requires a BGP identifier: an IPv4 address other than
// 0.0.0.0.
func checkRouterID(r report, id string) {
	const path = "spec.routerId"
	if id == "" {
		r.add(path, "", "required: an IPv4 address")
		return
	}
	a, err := netip.ParseAddr(id)
	switch {
	case err != nil || !a.Is4():
		r.add(path, id, "not an IPv4 address: the BGP identifier is 32 bits")
	case a.IsUnspecified():
		r.add(path, id, "0.0.0.0 is not a valid BGP identifier")
	}
}
