//go:build linux

package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"

	api "github.com/osrg/gobgp/v3/api"
	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// router is an upstream GoBGP router that accepts a passive IPv4 session
// from the agent.
type router struct {
	bgp  *server.BgpServer
	addr netip.Addr
	port uint16
}

// startRouter runs a router in asn on addr, on a free port, with a passive
// neighbour at neighbor in neighborASN.
func startRouter(ctx context.Context, addr netip.Addr, asn uint32, neighbor netip.Addr, neighborASN uint32) (*router, error) {
	bgp := server.NewBgpServer(server.LoggerOption(quietGoBGP{}))
	go bgp.Serve()
	r := &router{bgp: bgp, addr: addr}
	var err error
	for range 10 { // another process may take the free port first
		if r.port, err = freePort(addr); err != nil {
			break
		}
		global := &api.Global{Asn: asn, RouterId: addr.String(), ListenPort: int32(r.port), ListenAddresses: []string{addr.String()}}
		if err = bgp.StartBgp(ctx, &api.StartBgpRequest{Global: global}); err == nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	if err != nil {
		bgp.Stop()
		return nil, fmt.Errorf("router %s: starting: %w", addr, err)
	}
	peer := &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: neighbor.String(), PeerAsn: neighborASN},
		Transport: &api.Transport{PassiveMode: true},
		AfiSafis:  []*api.AfiSafi{{Config: &api.AfiSafiConfig{Family: ipv4Unicast, Enabled: true}}},
	}
	if err := bgp.AddPeer(ctx, &api.AddPeerRequest{Peer: peer}); err != nil {
		bgp.Stop()
		return nil, fmt.Errorf("router %s: adding neighbour %s: %w", addr, neighbor, err)
	}
	return r, nil
}

var ipv4Unicast = &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}

// count is how many IPv4 prefixes the router holds.
func (r *router) count(ctx context.Context) (int, error) {
	res, err := r.bgp.GetTable(ctx, &api.GetTableRequest{TableType: api.TableType_GLOBAL, Family: ipv4Unicast})
	if err != nil {
		return 0, fmt.Errorf("router %s: reading its table: %w", r.addr, err)
	}
	return int(res.NumDestination), nil
}

// established reports whether the session with the agent is up.
func (r *router) established(ctx context.Context) bool {
	up := false
	_ = r.bgp.ListPeer(ctx, &api.ListPeerRequest{}, func(p *api.Peer) {
		up = up || p.GetState().GetSessionState() == api.PeerState_ESTABLISHED
	})
	return up
}

func (r *router) stop() { r.bgp.Stop() }

// freePort is a TCP port that was free on addr a moment ago.
func freePort(addr netip.Addr) (uint16, error) {
	l, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(addr, 0)))
	if err != nil {
		return 0, fmt.Errorf("finding a free port on %s: %w", addr, err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port), nil
}

// quietGoBGP drops GoBGP's log.
type quietGoBGP struct{}

func (quietGoBGP) Panic(msg string, _ gobgplog.Fields) { panic("gobgp: " + msg) }
func (quietGoBGP) Fatal(string, gobgplog.Fields)       {}
func (quietGoBGP) Error(string, gobgplog.Fields)       {}
func (quietGoBGP) Warn(string, gobgplog.Fields)        {}
func (quietGoBGP) Info(string, gobgplog.Fields)        {}
func (quietGoBGP) Debug(string, gobgplog.Fields)       {}
func (quietGoBGP) SetLevel(gobgplog.LogLevel)          {}
func (quietGoBGP) GetLevel() gobgplog.LogLevel         { return gobgplog.WarnLevel }
