package agent

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/anyctl/anyctl/agent/speaker"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// Bounds of the wait between attempts to start the speaker.
const (
	speakerRetryMin = 500 * time.Millisecond
	speakerRetryMax = 30 * time.Second
)

// syncSpeaker runs ensureSpeaker; when it fails, it keeps the error for the
// prefix statuses and schedules another attempt on a jittered backoff, so
// that a speaker that could not start (its port busy at boot, say) starts
// without waiting for a new config, which may never come while the
// controller is down.
func (l *loop) syncSpeaker(ctx context.Context) {
	failing := l.spErr != nil
	l.spErr = l.ensureSpeaker(ctx)
	if l.spErr == nil {
		if failing {
			l.a.log.Info("BGP speaker running after earlier failures")
		}
		l.spBackoff.Reset()
		l.spRetry = nil
		return
	}
	if l.spRetry == nil {
		wait := l.spBackoff.Next()
		l.spRetry = time.After(wait)
		l.a.log.Error("BGP speaker; retrying", "err", l.spErr, "in", wait)
	}
}

// ensureSpeaker starts the speaker for the config's ASN and router ID
// (restarting it if they changed) and reconciles its peers.
func (l *loop) ensureSpeaker(ctx context.Context) error {
	rid, err := netip.ParseAddr(l.cfg.GetRouterId())
	if err != nil {
		return fmt.Errorf("config routerId %q: %w", l.cfg.GetRouterId(), err)
	}
	peers, err := l.peers()
	if err != nil {
		return err
	}
	key := fmt.Sprintf("%d/%s", l.cfg.GetLocalAsn(), rid)
	if l.sp != nil && l.spKey != key {
		l.a.log.Warn("local ASN or router ID changed; restarting the BGP speaker", "was", l.spKey, "now", key)
		if err := l.sp.Stop(ctx, "local ASN or router ID changed; restarting"); err != nil {
			l.a.log.Warn("stopping BGP speaker", "err", err)
		}
		l.sp = nil
	}
	if l.sp == nil {
		gr := l.a.cfg.GracefulRestart
		sp, err := speaker.Start(ctx, speaker.Config{
			ASN:        l.cfg.GetLocalAsn(),
			RouterID:   rid,
			ListenPort: l.a.cfg.BGPListenPort,
			Peers:      peers,
			Logger:     l.a.log.With("subsystem", "bgp"),
			GracefulRestart: speaker.GracefulRestart{
				Enabled:     gr.Enabled,
				RestartTime: time.Duration(gr.RestartTime),
				Restarting:  l.resumed != nil,
			},
		})
		if err != nil {
			return err
		}
		l.sp, l.spKey = sp, key
		return nil
	}
	return l.sp.SetPeers(ctx, peers)
}

// peers converts the config's peers, resolving MD5 password references
// from the local secrets.
func (l *loop) peers() ([]speaker.Peer, error) {
	var out []speaker.Peer
	hops := parseNextHops(l.cfg)
	services := servicePrefixes(l.cfg)
	for i, p := range l.cfg.GetPeers() {
		addr, err := netip.ParseAddr(p.GetAddress())
		if err != nil {
			return nil, fmt.Errorf("config peers[%d].address %q: %w", i, p.GetAddress(), err)
		}
		sp := speaker.Peer{
			Address:       addr,
			Port:          uint16(p.GetPort()),
			ASN:           p.GetPeerAsn(),
			HoldTime:      p.GetHoldTime().AsDuration(),
			MultihopTTL:   uint8(p.GetMultihopTtl()),
			MaxPrefixes:   l.a.policy.MaxPerPeer,
			MaxPrefixesIn: int(p.GetMaxPrefixesIn()),
		}
		if sp.Export, err = peerExport(i, p, addr, hops, services); err != nil {
			return nil, err
		}
		if ref := p.GetPasswordRef(); ref != "" {
			pw, ok := l.a.cfg.Secrets[ref]
			if !ok {
				return nil, fmt.Errorf("config peers[%d].passwordRef %q: no such secret in the agent's local config", i, ref)
			}
			sp.Password = pw
		}
		if la := p.GetLocalAddress(); la != "" {
			if sp.LocalAddress, err = netip.ParseAddr(la); err != nil {
				return nil, fmt.Errorf("config peers[%d].localAddress %q: %w", i, la, err)
			}
		}
		for _, f := range p.GetFamilies() {
			switch f {
			case v1.AddressFamily_ADDRESS_FAMILY_IPV4_UNICAST:
				sp.Families = append(sp.Families, speaker.IPv4Unicast)
			case v1.AddressFamily_ADDRESS_FAMILY_IPV6_UNICAST:
				sp.Families = append(sp.Families, speaker.IPv6Unicast)
			}
		}
		out = append(out, sp)
	}
	return out, nil
}
