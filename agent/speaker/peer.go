package speaker

import (
	"time"

	api "github.com/osrg/gobgp/v3/api"
)

// apiPeer is the GoBGP neighbour for a normalized peer. Every family caps
// what the neighbour may send at MaxPrefixesIn, and with graceful restart
// every family is preserved across a restart.
func apiPeer(p Peer, gr GracefulRestart) *api.Peer {
	hold := uint64(p.HoldTime / time.Second)
	ap := &api.Peer{
		Conf: &api.PeerConf{
			NeighborAddress: p.Address.String(),
			PeerAsn:         p.ASN,
			AuthPassword:    p.Password,
		},
		Timers: &api.Timers{Config: &api.TimersConfig{
			HoldTime:          hold,
			KeepaliveInterval: hold / 3,
			ConnectRetry:      uint64(p.ConnectRetry / time.Second),
		}},
		Transport: &api.Transport{RemotePort: uint32(p.Port)},
	}
	if p.LocalAddress.IsValid() {
		ap.Transport.LocalAddress = p.LocalAddress.String()
	}
	if p.MultihopTTL > 0 {
		ap.EbgpMultihop = &api.EbgpMultihop{Enabled: true, MultihopTtl: uint32(p.MultihopTTL)}
	}
	if gr.Enabled {
		restart := gr.restartSeconds()
		ap.GracefulRestart = &api.GracefulRestart{
			Enabled:         true,
			RestartTime:     restart,
			DeferralTime:    max(restart/2, 1),
			LocalRestarting: gr.Restarting,
		}
	}
	for _, f := range p.Families {
		af := &api.AfiSafi{
			Config:       &api.AfiSafiConfig{Family: f.api(), Enabled: true},
			PrefixLimits: &api.PrefixLimit{Family: f.api(), MaxPrefixes: uint32(p.MaxPrefixesIn)},
		}
		if gr.Enabled {
			af.MpGracefulRestart = &api.MpGracefulRestart{Config: &api.MpGracefulRestartConfig{Enabled: true}}
		}
		ap.AfiSafis = append(ap.AfiSafis, af)
	}
	return ap
}
