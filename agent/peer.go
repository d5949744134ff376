package agent

import (
	"fmt"
	"net/netip"

	"github.com/anyctl/anyctl/agent/speaker"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// peer is one BGP peer of the config as the agent runs it: the speaker's
// peer but for what the agent's local config adds (the password its
// passwordRef names, the per-peer cap).
type peer struct {
	speaker.Peer
	passwordRef string
	// err says why the peer cannot be configured (its address or its
	// export), localErr why its local address cannot; either keeps the
	// speaker from being configured.
	err, localErr error
}

// acceptPeer converts peer i of a config whose next hops are hops and
// whose services have the prefixes services maps.
func acceptPeer(i int, p *v1.BgpPeer, hops nextHops, services map[string][]netip.Prefix) peer {
	addr, err := netip.ParseAddr(p.GetAddress())
	if err != nil {
		return peer{err: fmt.Errorf("config peers[%d].address %q: %w", i, p.GetAddress(), err)}
	}
	out := peer{
		Peer: speaker.Peer{
			Address:       addr,
			Port:          uint16(p.GetPort()),
			ASN:           p.GetPeerAsn(),
			HoldTime:      p.GetHoldTime().AsDuration(),
			MultihopTTL:   uint8(p.GetMultihopTtl()),
			MaxPrefixesIn: int(p.GetMaxPrefixesIn()),
		},
		passwordRef: p.GetPasswordRef(),
	}
	if out.Export, err = peerExport(i, p, addr, hops, services); err != nil {
		return peer{err: err}
	}
	if la := p.GetLocalAddress(); la != "" {
		if out.LocalAddress, err = netip.ParseAddr(la); err != nil {
			out.localErr = fmt.Errorf("config peers[%d].localAddress %q: %w", i, la, err)
		}
	}
	for _, f := range p.GetFamilies() {
		switch f {
		case v1.AddressFamily_ADDRESS_FAMILY_IPV4_UNICAST:
			out.Families = append(out.Families, speaker.IPv4Unicast)
		case v1.AddressFamily_ADDRESS_FAMILY_IPV6_UNICAST:
			out.Families = append(out.Families, speaker.IPv6Unicast)
		}
	}
	return out
}
