package agent

import (
	"fmt"
	"net/netip"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// nextHops are the PoP's next hops, one per family, for sessions of the
// other family (peerExport). A zero address means none; an error says the
// config's value cannot be sent, and the family's prefixes are refused
// rather than sent from an address the operator did not ask for.
type nextHops struct {
	v4, v6     netip.Addr
	err4, err6 error
}

func parseNextHops(cfg *v1.PopConfig) nextHops {
	var h nextHops
	h.v4, h.err4 = parseNextHop("nextHopIpv4", cfg.GetNextHopIpv4(), netip.Addr.Is4)
	h.v6, h.err6 = parseNextHop("nextHopIpv6", cfg.GetNextHopIpv6(), plainIPv6)
	return h
}

func parseNextHop(field, s string, ofFamily func(netip.Addr) bool) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("config %s %q: %w", field, s, err)
	}
	if !ofFamily(a) {
		return netip.Addr{}, fmt.Errorf("config %s %q: not a plain address of its family", field, s)
	}
	return a, nil
}

// check says why the prefix's family has no usable next hop.
func (h nextHops) check(pfx netip.Prefix) error {
	if pfx.Addr().Is4() {
		return h.err4
	}
	return h.err6
}
