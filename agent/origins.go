package agent

import (
	"context"
	"time"

	"github.com/anyctl/anyctl/agent/health"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// originProbe is one origin probed from this PoP as a vantage point: one
// checker per address when the check names no host, else one.
type originProbe struct {
	spec     *v1.OriginProbe
	checkers []*health.Checker
	cancel   context.CancelFunc
	done     chan struct{}
}

func (o *originProbe) stop() {
	o.cancel()
	<-o.done
}

// result is the origin's health from here: up when any address passes,
// with the fastest passing probe as the RTT.
func (o *originProbe) result() *v1.OriginProbeResult {
	r := &v1.OriginProbeResult{Origin: o.spec.GetOrigin()}
	var best time.Duration
	for _, c := range o.checkers {
		st := c.Status()
		if !st.Healthy {
			if r.LastResult == "" {
				r.LastResult = st.LastResult
			}
			continue
		}
		r.Healthy = true
		if best == 0 || st.LastDuration < best {
			best = st.LastDuration
		}
	}
	if r.Healthy {
		r.Rtt = durationpb.New(best)
		r.LastResult = "ok"
	}
	return r
}

// syncOriginProbes starts and stops origin probes to match the config;
// unchanged probes keep running with their state.
func (l *loop) syncOriginProbes(ctx context.Context) {
	want := map[string]*v1.OriginProbe{}
	for _, p := range l.cfg.GetOriginProbes() {
		want[p.GetOrigin()] = p
	}
	for name, o := range l.origins {
		if p, ok := want[name]; !ok || !proto.Equal(p, o.spec) {
			o.stop()
			delete(l.origins, name)
		}
	}
	for name, p := range want {
		if _, ok := l.origins[name]; ok {
			continue
		}
		cctx, cancel := context.WithCancel(ctx)
		o := &originProbe{spec: p, cancel: cancel, done: make(chan struct{})}
		for _, host := range probeHosts(p) {
			spec, err := health.FromProto(p.GetHealthCheck(), host)
			if err != nil {
				l.a.log.Error("origin probe unusable", "origin", name, "err", err)
				continue
			}
			damp := health.DampConfig{Rise: spec.Rise, Fall: spec.Fall}
			events := l.originEvents
			o.checkers = append(o.checkers, health.NewChecker(name, spec, damp, health.RealClock(), func(string, bool) {
				select {
				case events <- struct{}{}:
				default:
				}
			}))
		}
		l.origins[name] = o
		go func() {
			defer close(o.done)
			done := make(chan struct{}, len(o.checkers))
			for _, c := range o.checkers {
				go func() { _ = c.Run(cctx); done <- struct{}{} }()
			}
			for range o.checkers {
				<-done
			}
		}()
	}
}

// probeHosts lists the hosts an origin's check probes: each address when
// the check's target names no host, else none (the target's own host).
func probeHosts(p *v1.OriginProbe) []string {
	if targetHasHost(p.GetHealthCheck().GetTarget()) {
		return []string{""}
	}
	return p.GetAddresses()
}
