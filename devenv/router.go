package devenv

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	api "github.com/osrg/gobgp/v3/api"
	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// RouterASN is the in-process upstream router's AS number (documentation
// range).
const RouterASN = 64500

// router is an in-process GoBGP speaker that plays "the internet": every
// PoP agent peers with it, and it shows what the world would route.
type router struct {
	bgp  *server.BgpServer
	addr netip.Addr
	port int
}

// startRouter listens on addr at a free port.
func startRouter(ctx context.Context, addr netip.Addr) (*router, error) {
	bgp := server.NewBgpServer(server.LoggerOption(quietLogger{}))
	go bgp.Serve()
	var err error
	for range 5 {
		var port int
		if port, err = freePort(addr); err != nil {
			break
		}
		err = bgp.StartBgp(ctx, &api.StartBgpRequest{Global: &api.Global{
			Asn:             RouterASN,
			RouterId:        "192.0.2.250",
			ListenPort:      int32(port),
			ListenAddresses: []string{addr.String()},
		}})
		if err == nil {
			return &router{bgp: bgp, addr: addr, port: port}, nil
		}
	}
	bgp.Stop()
	return nil, fmt.Errorf("in-process router on %s: %w", addr, err)
}

// addNeighbor accepts a passive session from a PoP agent at addr.
func (r *router) addNeighbor(ctx context.Context, addr netip.Addr, asn uint32) error {
	fams := []*api.AfiSafi{
		{Config: &api.AfiSafiConfig{Family: &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}, Enabled: true}},
		{Config: &api.AfiSafiConfig{Family: &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}, Enabled: true}},
	}
	return r.bgp.AddPeer(ctx, &api.AddPeerRequest{Peer: &api.Peer{
		Conf:      &api.PeerConf{NeighborAddress: addr.String(), PeerAsn: asn},
		Transport: &api.Transport{PassiveMode: true},
		AfiSafis:  fams,
	}})
}

// routes counts the router's IPv4 and IPv6 destinations.
func (r *router) routes(ctx context.Context) (v4, v6 int, err error) {
	for _, f := range []struct {
		afi api.Family_Afi
		n   *int
	}{{api.Family_AFI_IP, &v4}, {api.Family_AFI_IP6, &v6}} {
		res, err := r.bgp.GetTable(ctx, &api.GetTableRequest{TableType: api.TableType_GLOBAL, Family: &api.Family{Afi: f.afi, Safi: api.Family_SAFI_UNICAST}})
		if err != nil {
			return 0, 0, err
		}
		*f.n = int(res.NumDestination)
	}
	return v4, v6, nil
}

func (r *router) stop() { r.bgp.Stop() }

func freePort(addr netip.Addr) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(addr.String(), "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	_, p, _ := net.SplitHostPort(l.Addr().String())
	return strconv.Atoi(p)
}

// quietLogger drops GoBGP's own logging; the agents log sessions.
type quietLogger struct{}

func (quietLogger) Panic(msg string, _ gobgplog.Fields) { panic("gobgp: " + msg) }
func (quietLogger) Fatal(string, gobgplog.Fields)       {}
func (quietLogger) Error(string, gobgplog.Fields)       {}
func (quietLogger) Warn(string, gobgplog.Fields)        {}
func (quietLogger) Info(string, gobgplog.Fields)        {}
func (quietLogger) Debug(string, gobgplog.Fields)       {}
func (quietLogger) SetLevel(gobgplog.LogLevel)          {}
func (quietLogger) GetLevel() gobgplog.LogLevel         { return gobgplog.ErrorLevel }
