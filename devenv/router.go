package devenv

import (
	"context"
	"net/netip"

	"github.com/anyctl/anyctl/agent/speaker"
	"github.com/anyctl/anyctl/agent/speaker/upstream"
)

// RouterASN is the in-process upstream router's AS number (documentation
// range).
const RouterASN = 64500

// startRouter starts the in-process router that plays "the internet": every
// PoP agent peers with it, and it shows what the world would route.
func startRouter(ctx context.Context, addr netip.Addr) (*upstream.Router, error) {
	return upstream.Start(ctx, upstream.Config{
		ASN:      RouterASN,
		Listen:   addr,
		RouterID: netip.MustParseAddr("192.0.2.250"),
	})
}

// addNeighbor accepts a passive session from a PoP agent at addr, carrying
// IPv4 and IPv6.
func addNeighbor(ctx context.Context, r *upstream.Router, addr netip.Addr, asn uint32) error {
	return r.AddNeighbor(ctx, addr, asn, upstream.WithFamilies(speaker.IPv4Unicast, speaker.IPv6Unicast))
}

// routeCounts counts the router's IPv4 and IPv6 destinations.
func routeCounts(r *upstream.Router) func(context.Context) (v4, v6 int, err error) {
	return func(ctx context.Context) (v4, v6 int, err error) {
		if v4, err = r.Destinations(ctx, speaker.IPv4Unicast); err != nil {
			return 0, 0, err
		}
		if v6, err = r.Destinations(ctx, speaker.IPv6Unicast); err != nil {
			return 0, 0, err
		}
		return v4, v6, nil
	}
}
