// Package speakertest runs an in-process GoBGP server as the upstream router
// that a speaker.Speaker peers with in tests, and reads what the router
// learned: its RIB, its sessions, and bounded Await helpers over both.
package speakertest

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/agent/speaker"
	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// Router is a GoBGP server listening on a loopback address and a free port.
// Its neighbours are passive: the speaker under test dials in.
type Router struct {
	bgp      *server.BgpServer
	log      *routerLogger
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
	logger := &routerLogger{}
	bgp := server.NewBgpServer(server.LoggerOption(logger))
	go bgp.Serve()
	r := &Router{bgp: bgp, log: logger, addr: o.listen, asn: asn, sessions: newSessionLog()}
	t.Cleanup(bgp.Stop)

	// GoBGP needs a concrete port, so reserve one and hand it over; another
	// process may take it in between, so try a few.
	var err error
	for range 10 {
		r.port = freePort(t, o.listen)
		global := &api.Global{
			Asn:             asn,
			RouterId:        routerID(r.port).String(),
			ListenPort:      int32(r.port),
			ListenAddresses: []string{o.listen.String()},
		}
		err = bgp.StartBgp(context.Background(), &api.StartBgpRequest{Global: global})
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	if err != nil {
		t.Fatalf("router AS%d: starting on %s: %v", asn, o.listen, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := bgp.WatchEvent(ctx, &api.WatchEventRequest{Peer: &api.WatchEventRequest_Peer{}}, r.sessions.observe); err != nil {
		t.Fatalf("router AS%d: watching sessions: %v", asn, err)
	}
	return r
}

// freePort is a TCP port that was free on addr a moment ago.
func freePort(t testing.TB, addr netip.Addr) uint16 {
	t.Helper()
	l, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(addr, 0)))
	if err != nil {
		t.Fatalf("router: finding a free port on %s: %v", addr, err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

// routerID is a BGP identifier unique among routers on this machine.
func routerID(port uint16) netip.Addr {
	return netip.AddrFrom4([4]byte{198, 18, byte(port >> 8), byte(port)})
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

// NeighborOption changes a neighbour added by AddNeighbor.
type NeighborOption func(*api.Peer)

// WithPassword sets the neighbour's TCP MD5 password. Go listens with MPTCP by
// default and Linux refuses MD5 keys on MPTCP sockets, so a test binary that
// uses it needs "//go:debug multipathtcp=0" in one of its test files;
// AddNeighbor fails the test with that advice otherwise.
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
func (r *Router) AddNeighbor(t testing.TB, addr netip.Addr, asn uint32, opts ...NeighborOption) {
	t.Helper()
	p := &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: addr.String(), PeerAsn: asn},
		Transport: &api.Transport{PassiveMode: true},
	}
	WithFamilies(speaker.FamilyOf(addr))(p)
	for _, opt := range opts {
		opt(p)
	}
	if err := r.bgp.AddPeer(context.Background(), &api.AddPeerRequest{Peer: p}); err != nil {
		t.Fatalf("router AS%d: adding neighbour %s AS%d: %v", r.asn, addr, asn, err)
	}
	if p.Conf.AuthPassword != "" && r.log.md5Failed.Load() {
		t.Fatalf("router AS%d: neighbour %s: the listener refused the TCP MD5 key: add //go:debug multipathtcp=0 to a test file (Go listens with MPTCP by default)", r.asn, addr)
	}
}

// apiFamily is the family as GoBGP's API spells it.
func apiFamily(f speaker.Family) *api.Family {
	if f == speaker.IPv6Unicast {
		return &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}
	}
	return &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
}
