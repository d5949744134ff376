package agent

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/anyctl/anyctl/agent/health"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
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
	svc     *v1.ServiceAssignment
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
	want := map[string]*v1.ServiceAssignment{}
	for _, svc := range l.cfg.GetServices() {
		if svc.GetHealthCheck() != nil {
			want[svc.GetName()] = svc
		}
	}
	replaced := map[string]health.Status{}
	for name, c := range l.checks {
		svc, ok := want[name]
		if ok && sameCheck(c.svc, svc) {
			continue
		}
		c.stop()
		delete(l.checks, name)
		delete(l.healthy, name)
		if ok {
			replaced[name] = c.checker.Status()
		}
	}
	for name, svc := range want {
		if _, ok := l.checks[name]; ok {
			continue
		}
		spec, err := health.FromProto(svc.GetHealthCheck(), defaultCheckHost(svc))
		if err != nil {
			l.a.log.Error("service health check unusable; service stays withdrawn", "service", name, "err", err)
			continue
		}
		damp, err := health.DampFromProto(svc)
		if err != nil {
			l.a.log.Error("service damping unusable; service stays withdrawn", "service", name, "err", err)
			continue
		}
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
		rc := &runningCheck{svc: svc, done: make(chan struct{})}
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

// sameCheck reports whether two assignments of a service probe the same
// way and damp the same: the same check, the same damping, and for a check
// whose target names no host, the same host derived from the prefixes.
func sameCheck(a, b *v1.ServiceAssignment) bool {
	return proto.Equal(a.GetHealthCheck(), b.GetHealthCheck()) &&
		proto.Equal(a.GetHoldDown(), b.GetHoldDown()) &&
		proto.Equal(a.GetHoldDownMax(), b.GetHoldDownMax()) &&
		proto.Equal(a.GetFlapWindow(), b.GetFlapWindow()) &&
		(targetHasHost(a.GetHealthCheck().GetTarget()) || defaultCheckHost(a) == defaultCheckHost(b))
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

// defaultCheckHost is the host a check with no host in its target probes:
// the service address, the first host address of the service's first
// prefix (the address itself for a /32 or /128).
func defaultCheckHost(svc *v1.ServiceAssignment) string {
	if len(svc.GetPrefixes()) == 0 {
		return ""
	}
	p, err := netip.ParsePrefix(svc.GetPrefixes()[0])
	if err != nil {
		return ""
	}
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.Masked().Addr().Next().String()
}
