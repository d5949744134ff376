package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/anyctl/anyctl/agent/speaker"
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
	if l.cfg.routerIDErr != nil {
		return l.cfg.routerIDErr
	}
	rid := l.cfg.routerID
	peers, err := l.peers()
	if err != nil {
		return err
	}
	key := fmt.Sprintf("%d/%s", l.cfg.asn, rid)
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
			ASN:        l.cfg.asn,
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

// peers are the config's peers for the speaker, with the MD5 passwords
// their references name in the local secrets and the local per-peer cap.
func (l *loop) peers() ([]speaker.Peer, error) {
	var out []speaker.Peer
	for i, p := range l.cfg.peers {
		if p.err != nil {
			return nil, p.err
		}
		sp := p.Peer
		sp.MaxPrefixes = l.a.policy.MaxPerPeer
		if p.passwordRef != "" {
			pw, ok := l.a.cfg.Secrets[p.passwordRef]
			if !ok {
				return nil, fmt.Errorf("config peers[%d].passwordRef %q: no such secret in the agent's local config", i, p.passwordRef)
			}
			sp.Password = pw
		}
		if p.localErr != nil {
			return nil, p.localErr
		}
		out = append(out, sp)
	}
	return out, nil
}
