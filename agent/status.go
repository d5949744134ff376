package agent

import (
	"context"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// report builds the PoP's status, keeps it for Status() and metrics, and
// queues it for the controller.
func (l *loop) report(ctx context.Context) {
	st := &v1.PopStatus{
		Pop:          l.a.cfg.Pop,
		ReportedAt:   timestamppb.Now(),
		AgentVersion: Version,
		// For the life of the process: the operator learns the file
		// on disk was bad even after the controller's config replaced it.
		PersistedConfigRefused: l.persistedRefused,
	}
	st.ConfigRevision = l.cfg.revision()
	for _, s := range l.states {
		st.Prefixes = append(st.Prefixes, s.status)
	}
	if l.sp != nil {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		peers, err := l.sp.PeerStatus(pctx)
		cancel()
		if err != nil {
			l.a.log.Debug("reading peer status", "err", err)
		}
		for _, p := range peers {
			ps := &v1.PeerStatus{
				Address:          p.Address.String(),
				PeerAsn:          p.ASN,
				State:            p.State,
				PrefixesSent:     uint32(p.PrefixesSent),
				PrefixesReceived: uint32(p.PrefixesReceived),
			}
			if !p.Since.IsZero() {
				ps.UpSince = timestamppb.New(p.Since)
			}
			if pr := p.LastProblem; pr.Text != "" {
				ps.LastProblem = pr.Text
				ps.LastProblemAt = timestamppb.New(pr.At)
			}
			st.Peers = append(st.Peers, ps)
			l.a.metrics.sessionUp.WithLabelValues(ps.Address).Set(boolFloat(p.State == "established"))
		}
	}
	for name, c := range l.checks {
		cs := c.checker.Status()
		st.Checks = append(st.Checks, cs.Proto(name))
		l.a.metrics.checkUp.WithLabelValues(name).Set(boolFloat(cs.Healthy))
		l.a.metrics.flaps.WithLabelValues(name).Set(float64(cs.Flaps))
	}
	for _, o := range l.origins {
		if r := o.result(); r != nil {
			st.OriginProbes = append(st.OriginProbes, r)
		}
	}
	sortStatus(st)
	l.a.mu.Lock()
	l.a.lastStatus = st
	l.a.mu.Unlock()
	l.sess.report(st)
}
