package agent

import (
	"fmt"
	"net/netip"

	"github.com/anyctl/anyctl/agent/speaker"
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

// sendable applies the speaker's rules for one announcement, which it
// enforces by refusing the whole set: a valid plain prefix without host
// bits, a next hop of its family, and at most speaker.MaxPrepend
// prepends. The checks before it already refuse what breaks them; this is
// the last guard, and TestSendableAgreesWithSpeaker keeps it in step with
// the speaker.
func sendable(a speaker.Announcement) error {
	addr := a.Prefix.Addr()
	switch {
	case !a.Prefix.IsValid() || addr.Zone() != "" || addr.Is4In6():
		return fmt.Errorf("prefix %q is not a plain IPv4 or IPv6 prefix", a.Prefix.String())
	case a.Prefix.Masked() != a.Prefix:
		return fmt.Errorf("prefix %q has host bits set: did you mean %q?", a.Prefix.String(), a.Prefix.Masked().String())
	case a.NextHop.IsValid() && (speaker.FamilyOf(a.NextHop) != speaker.FamilyOf(addr) || a.NextHop.Is4In6() || a.NextHop.Zone() != ""):
		return fmt.Errorf("next hop %q is not a plain address of the family of %q", a.NextHop.String(), a.Prefix.String())
	case a.Prepend < 0 || a.Prepend > speaker.MaxPrepend:
		return fmt.Errorf("%d prepends: the speaker sends 0 to %d", a.Prepend, speaker.MaxPrepend)
	}
	return nil
}
