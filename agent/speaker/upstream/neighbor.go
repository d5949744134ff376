package upstream

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/anyctl/anyctl/agent/speaker"
	api "github.com/osrg/gobgp/v3/api"
)

// NeighborOption changes a neighbour added by AddNeighbor.
type NeighborOption func(*api.Peer)

// WithPassword sets the neighbour's TCP MD5 password. Go listens with MPTCP by
// default and Linux refuses MD5 keys on MPTCP sockets, so a program (or test
// binary) that uses it needs "//go:debug multipathtcp=0" (or godebug in
// go.mod); AddNeighbor fails with that advice otherwise.
func WithPassword(pw string) NeighborOption {
	return func(p *api.Peer) { p.Conf.AuthPassword = pw }
}

// WithFamilies sets the families negotiated with the neighbour; the default is
// its address's family.
func WithFamilies(fams ...speaker.Family) NeighborOption {
	return func(p *api.Peer) {
		p.AfiSafis = nil
		for _, f := range fams {
			p.AfiSafis = append(p.AfiSafis, &api.AfiSafi{Config: &api.AfiSafiConfig{Family: apiFamily(f), Enabled: true}})
		}
	}
}

// WithGracefulRestart makes the router a graceful restart helper (RFC 4724)
// for the neighbour: it keeps the neighbour's routes, stale, for up to
// restartTime after the session drops without a NOTIFICATION.
func WithGracefulRestart(restartTime time.Duration) NeighborOption {
	return func(p *api.Peer) {
		p.GracefulRestart = &api.GracefulRestart{Enabled: true, RestartTime: uint32(restartTime / time.Second)}
		for _, af := range p.AfiSafis {
			af.MpGracefulRestart = &api.MpGracefulRestart{Config: &api.MpGracefulRestartConfig{Enabled: true}}
		}
	}
}

// AddNeighbor accepts a passive session from a speaker at addr in AS asn.
func (r *Router) AddNeighbor(ctx context.Context, addr netip.Addr, asn uint32, opts ...NeighborOption) error {
	p := &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: addr.String(), PeerAsn: asn},
		Transport: &api.Transport{PassiveMode: true},
	}
	WithFamilies(speaker.FamilyOf(addr))(p)
	for _, opt := range opts {
		opt(p)
	}
	if err := r.bgp.AddPeer(ctx, &api.AddPeerRequest{Peer: p}); err != nil {
		return fmt.Errorf("upstream router AS%d: adding neighbour %s AS%d: %w", r.asn, addr, asn, err)
	}
	if p.Conf.AuthPassword != "" && r.log.md5Failed.Load() {
		return fmt.Errorf("upstream router AS%d: neighbour %s: the listener refused the TCP MD5 key: add //go:debug multipathtcp=0 to a test file, or godebug multipathtcp=0 to go.mod (Go listens with MPTCP by default)", r.asn, addr)
	}
	return nil
}
