//go:build linux

package main

import (
	"context"
	"net/netip"

	"github.com/anyctl/anyctl/agent/speaker"
	"github.com/anyctl/anyctl/agent/speaker/upstream"
	api "github.com/osrg/gobgp/v3/api"
)

// startRouter runs an upstream router in asn on addr, on a free port, that
// accepts a passive IPv4 session from the agent at neighbor in neighborASN.
func startRouter(ctx context.Context, addr netip.Addr, asn uint32, neighbor netip.Addr, neighborASN uint32) (*upstream.Router, error) {
	r, err := upstream.Start(ctx, upstream.Config{ASN: asn, Listen: addr, RouterID: addr})
	if err != nil {
		return nil, err
	}
	if err := r.AddNeighbor(ctx, neighbor, neighborASN); err != nil {
		r.Stop()
		return nil, err
	}
	return r, nil
}

// prefixCount is how many IPv4 prefixes the router holds.
func prefixCount(ctx context.Context, r *upstream.Router) (int, error) {
	return r.Destinations(ctx, speaker.IPv4Unicast)
}

// established reports whether the session with the agent is up.
func established(ctx context.Context, r *upstream.Router) bool {
	up := false
	_ = r.Server().ListPeer(ctx, &api.ListPeerRequest{}, func(p *api.Peer) {
		up = up || p.GetState().GetSessionState() == api.PeerState_ESTABLISHED
	})
	return up
}
