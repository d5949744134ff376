// Package upstream runs an in-process GoBGP server as the upstream router
// that PoP speakers peer with: speakertest's router in tests, the "internet"
// of `anyctl dev`, and the routers of the agent benchmark. It listens on one
// address at a free port and accepts passive sessions only; GoBGP's own log
// is dropped.
package upstream

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/anyctl/anyctl/agent/speaker"
	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// startAttempts bounds the retries when another process takes the port
// chosen free before GoBGP binds it.
const startAttempts = 10

// Config says how to start a router.
type Config struct {
	// ASN is the router's AS number.
	ASN uint32
	// Listen is the address the router listens on, at a port chosen free.
	Listen netip.Addr
	// RouterID is the BGP identifier; the zero Addr means 198.18.x.y from
	// the port, unique among the routers on this machine.
	RouterID netip.Addr
}

// Router is a running GoBGP server. Its neighbours are passive: the
// speakers dial in.
type Router struct {
	bgp  *server.BgpServer
	log  *logger
	addr netip.Addr
	port uint16
	asn  uint32
}

// Start starts a router; it runs until Stop. ctx bounds the start only.
func Start(ctx context.Context, cfg Config) (*Router, error) {
	if !cfg.Listen.IsValid() {
		return nil, fmt.Errorf("upstream router AS%d: no listen address", cfg.ASN)
	}
	log := &logger{}
	bgp := server.NewBgpServer(server.LoggerOption(log))
	go bgp.Serve()
	r := &Router{bgp: bgp, log: log, addr: cfg.Listen, asn: cfg.ASN}
	// GoBGP needs a concrete port, so reserve one and hand it over.
	var err error
	for range startAttempts {
		if r.port, err = freePort(cfg.Listen); err != nil {
			break
		}
		id := cfg.RouterID
		if !id.IsValid() {
			id = routerID(r.port)
		}
		global := &api.Global{
			Asn:             cfg.ASN,
			RouterId:        id.String(),
			ListenPort:      int32(r.port),
			ListenAddresses: []string{cfg.Listen.String()},
		}
		err = bgp.StartBgp(ctx, &api.StartBgpRequest{Global: global})
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	if err != nil {
		bgp.Stop()
		return nil, fmt.Errorf("upstream router AS%d: starting on %s: %w", cfg.ASN, cfg.Listen, err)
	}
	return r, nil
}

// freePort is a TCP port that was free on addr a moment ago.
func freePort(addr netip.Addr) (uint16, error) {
	l, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(addr, 0)))
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port), nil
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

// Server is the GoBGP server, for reading its tables and watching it.
func (r *Router) Server() *server.BgpServer { return r.bgp }

// Stop closes the sessions and stops the server.
func (r *Router) Stop() { r.bgp.Stop() }

// LastNotification is the last NOTIFICATION the router received, as
// "CODE/SUBCODE COMMUNICATION", or "" when none.
func (r *Router) LastNotification() string {
	if s := r.log.notification.Load(); s != nil {
		return *s
	}
	return ""
}

// Destinations is how many prefixes of family the router holds.
func (r *Router) Destinations(ctx context.Context, family speaker.Family) (int, error) {
	res, err := r.bgp.GetTable(ctx, &api.GetTableRequest{TableType: api.TableType_GLOBAL, Family: apiFamily(family)})
	if err != nil {
		return 0, fmt.Errorf("upstream router AS%d: reading its %s table: %w", r.asn, family, err)
	}
	return int(res.NumDestination), nil
}

// apiFamily is the family as GoBGP's API spells it.
func apiFamily(f speaker.Family) *api.Family {
	if f == speaker.IPv6Unicast {
		return &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}
	}
	return &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
}
