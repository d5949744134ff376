package agent

import (
	"context"
	"sync/atomic"

	"github.com/anyctl/anyctl/agent/health"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

// origin is one origin of the config to probe from this PoP as a vantage
// point: one check per address when the check names no host, else one.
type origin struct {
	name string
	// wire is the probe as configured, to tell an edited probe from an
	// unchanged one.
	wire   *v1.OriginProbe
	checks []originCheck
}

// originCheck is one check of an origin, or why it is unusable.
type originCheck struct {
	spec health.Spec
	err  error
}

// acceptOrigin converts an origin probe of the config.
func acceptOrigin(p *v1.OriginProbe) origin {
	o := origin{name: p.GetOrigin(), wire: p}
	for _, host := range probeHosts(p) {
		spec, err := health.FromProto(p.GetHealthCheck(), host)
		o.checks = append(o.checks, originCheck{spec: spec, err: err})
	}
	return o
}

// originProbe is one origin being probed from this PoP.
type originProbe struct {
	origin   *origin
	checkers []*originChecker
	cancel   context.CancelFunc
	done     chan struct{}
}

// originChecker is one checker of an origin probe.
type originChecker struct {
	checker *health.Checker
	fall    int
	// down is set while the checker's decision is down after having been
	// up, or when its check cannot run at all; written by the checker's
	// goroutine, read by the loop's.
	down atomic.Bool
}

func (o *originProbe) stop() {
	o.cancel()
	<-o.done
}

// result is the origin's health from here, nil while it is unknown.
func (o *originProbe) result() *v1.OriginProbeResult {
	views := make([]checkerView, len(o.checkers))
	for i, c := range o.checkers {
		views[i] = checkerView{status: c.checker.Status(), fall: c.fall, down: c.down.Load()}
	}
	return originResult(o.origin.name, views)
}

// syncOriginProbes starts and stops origin probes to match the config;
// unchanged probes keep running with their state.
func (l *loop) syncOriginProbes(ctx context.Context) {
	want := map[string]*origin{}
	for i := range l.cfg.origins {
		want[l.cfg.origins[i].name] = &l.cfg.origins[i]
	}
	for name, o := range l.origins {
		if p, ok := want[name]; !ok || !proto.Equal(p.wire, o.origin.wire) {
			o.stop()
			delete(l.origins, name)
		}
	}
	events, log := l.originEvents, l.a.log
	wake := func() {
		select {
		case events <- struct{}{}:
		default:
		}
	}
	for name, p := range want {
		if _, ok := l.origins[name]; ok {
			continue
		}
		cctx, cancel := context.WithCancel(ctx)
		o := &originProbe{origin: p, cancel: cancel, done: make(chan struct{})}
		for _, c := range p.checks {
			if c.err != nil {
				log.Error("origin probe unusable", "origin", name, "err", c.err)
				continue
			}
			spec := c.spec
			damp := health.DampConfig{Rise: spec.Rise, Fall: spec.Fall}
			oc := &originChecker{fall: spec.Fall}
			oc.checker = health.NewChecker(name, spec, damp, health.RealClock(), func(_ string, up bool) {
				oc.down.Store(!up)
				wake()
			})
			o.checkers = append(o.checkers, oc)
		}
		l.origins[name] = o
		go func() {
			defer close(o.done)
			done := make(chan struct{}, len(o.checkers))
			for _, c := range o.checkers {
				go func() {
					defer func() { done <- struct{}{} }()
					if err := c.checker.Run(cctx); err != nil {
						log.Error("origin probe cannot run; this PoP reports the origin down", "origin", name, "err", err)
						c.down.Store(true)
						wake()
					}
				}()
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
