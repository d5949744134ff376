package agent

import (
	"context"
	"net"
	"strings"
	"time"

	"github.com/anyctl/anyctl/agent/health"
	"google.golang.org/protobuf/proto"
)

// healthEvent is a damped health transition of one service's check.
type healthEvent struct {
	service string
	check   *runningCheck
	up      bool
}

// runningCheck is one service's checker and what it was built from.
type runningCheck struct {
	check   *serviceCheck
	checker *health.Checker
	cancel  context.CancelFunc
	done    chan struct{}
}

func (c *runningCheck) stop() {
	c.cancel()
	<-c.done
}

// syncChecks starts, restarts and stops checkers so that each service of
// the config has one. A checker whose service's check and damping are
// unchanged keeps running, with its state. A checker rebuilt for an edited
// check starts in its predecessor's decision, so that editing a check at
// every PoP does not withdraw the service everywhere until the new one has
// risen: an announced service stays announced until the new check fails.
func (l *loop) syncChecks(ctx context.Context) {
	want := map[string]*serviceCheck{}
	for _, svc := range l.cfg.services {
		if svc.check != nil {
			want[svc.name] = svc.check
		}
	}
	replaced := map[string]health.Status{}
	for name, c := range l.checks {
		check, ok := want[name]
		if ok && sameCheck(c.check, check) {
			continue
		}
		c.stop()
		delete(l.checks, name)
		delete(l.healthy, name)
		if ok {
			replaced[name] = c.checker.Status()
		}
	}
	for name, check := range want {
		if _, ok := l.checks[name]; ok {
			continue
		}
		if check.specErr != nil {
			l.a.log.Error("service health check unusable; service stays withdrawn", "service", name, "err", check.specErr)
			continue
		}
		if check.dampErr != nil {
			l.a.log.Error("service damping unusable; service stays withdrawn", "service", name, "err", check.dampErr)
			continue
		}
		spec, damp := check.spec, check.damp
		damp.Rise, damp.Fall = spec.Rise, spec.Fall
		if prev, ok := replaced[name]; ok {
			damp.StartUp = prev.Healthy
			if prev.Healthy || prev.Observed {
				l.healthy[name] = prev.Healthy
			}
		}
		if l.resumed[name] {
			// Healthy when the agent exited for a restart: announced
			// again at once, until the check says otherwise.
			damp.StartUp = true
			l.healthy[name] = true
		}
		rc := &runningCheck{check: check, done: make(chan struct{})}
		cctx, cancel := context.WithCancel(ctx)
		rc.cancel = cancel
		events := l.health
		rc.checker = health.NewChecker(name, spec, damp, health.RealClock(), func(_ string, up bool) {
			select {
			case events <- healthEvent{service: name, check: rc, up: up}:
			case <-cctx.Done():
			}
		})
		ok, fail := l.a.metrics.checkProbes.WithLabelValues(name, "ok"), l.a.metrics.checkProbes.WithLabelValues(name, "fail")
		hist := l.a.metrics.checkDuration.WithLabelValues(name)
		rc.checker.ObserveProbes(func(passed bool, took time.Duration) {
			if passed {
				ok.Inc()
			} else {
				fail.Inc()
			}
			hist.Observe(took.Seconds())
		})
		l.checks[name] = rc
		go func() {
			defer close(rc.done)
			_ = rc.checker.Run(cctx)
		}()
	}
}

// sameCheck reports whether two checks of a service probe the same way
// and damp the same: the same check, the same damping, and for a check
// whose target names no host, the same host derived from the prefixes.
func sameCheck(a, b *serviceCheck) bool {
	return proto.Equal(a.wire.GetHealthCheck(), b.wire.GetHealthCheck()) &&
		proto.Equal(a.wire.GetHoldDown(), b.wire.GetHoldDown()) &&
		proto.Equal(a.wire.GetHoldDownMax(), b.wire.GetHoldDownMax()) &&
		proto.Equal(a.wire.GetFlapWindow(), b.wire.GetFlapWindow()) &&
		(targetHasHost(a.wire.GetHealthCheck().GetTarget()) || a.host == b.host)
}

// targetHasHost reports whether a check's target names its host, as
// "host:port" or "host"; ":port" and "" take a default host.
func targetHasHost(target string) bool {
	host, _, err := net.SplitHostPort(target)
	if err != nil && !strings.HasPrefix(target, ":") {
		host = target
	}
	return host != ""
}
