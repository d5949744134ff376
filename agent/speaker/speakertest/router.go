// Package speakertest runs an in-process GoBGP server as the upstream router
// that a speaker.Speaker peers with in tests (an upstream.Router, stopped when
// the test ends), and reads what the router learned: its RIB, its sessions,
// and bounded Await helpers over both.
package speakertest

import (
	"context"
	"net/netip"
	"testing"

	"github.com/anyctl/anyctl/agent/speaker"
	"github.com/anyctl/anyctl/agent/speaker/upstream"
	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// Router is a GoBGP server listening on a loopback address and a free port.
// Its neighbours are passive: the speaker under test dials in.
type Router struct {
	up       *upstream.Router
	bgp      *server.BgpServer
	addr     netip.Addr
	port     uint16
	asn      uint32
	sessions *sessionLog
	// originating is set once Originate has installed its export policy.
	originating bool
}

// Option changes how StartRouter starts a router.
type Option func(*options)

type options struct {
	listen netip.Addr
}

// ListenOn makes the router listen on addr instead of 127.0.0.1; use ::1 for
// IPv6 sessions, or another 127.0.0.0/8 address for a second router.
func ListenOn(addr netip.Addr) Option {
	return func(o *options) { o.listen = addr }
}

// StartRouter starts a router in AS asn and stops it when the test ends.
func StartRouter(t testing.TB, asn uint32, opts ...Option) *Router {
	t.Helper()
	o := options{listen: netip.MustParseAddr("127.0.0.1")}
	for _, opt := range opts {
		opt(&o)
	}
	up, err := upstream.Start(context.Background(), upstream.Config{ASN: asn, Listen: o.listen})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(up.Stop)
	r := &Router{up: up, bgp: up.Server(), addr: up.Addr(), port: up.Port(), asn: asn, sessions: newSessionLog()}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := r.bgp.WatchEvent(ctx, &api.WatchEventRequest{Peer: &api.WatchEventRequest_Peer{}}, r.sessions.observe); err != nil {
		t.Fatalf("router AS%d: watching sessions: %v", asn, err)
	}
	return r
}

// Addr is the address the router listens on.
func (r *Router) Addr() netip.Addr { return r.addr }

// Port is the TCP port the router listens on.
func (r *Router) Port() uint16 { return r.port }

// ASN is the router's AS number.
func (r *Router) ASN() uint32 { return r.asn }

// Peer is a speaker.Peer that dials this router. The caller may change
// fields before use.
func (r *Router) Peer() speaker.Peer {
	return speaker.Peer{Address: r.addr, Port: r.port, ASN: r.asn}
}

// LastNotification is the last NOTIFICATION the router received, as
// "CODE/SUBCODE COMMUNICATION", or "" when none.
func (r *Router) LastNotification() string { return r.up.LastNotification() }

// AddNeighbor accepts a passive session from a speaker at addr in AS asn;
// the options are upstream's (upstream.WithPassword, WithFamilies,
// WithGracefulRestart).
func (r *Router) AddNeighbor(t testing.TB, addr netip.Addr, asn uint32, opts ...upstream.NeighborOption) {
	t.Helper()
	if err := r.up.AddNeighbor(context.Background(), addr, asn, opts...); err != nil {
		t.Fatal(err)
	}
}

// apiFamily is the family as GoBGP's API spells it.
func apiFamily(f speaker.Family) *api.Family {
	if f == speaker.IPv6Unicast {
		return &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}
	}
	return &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
}
