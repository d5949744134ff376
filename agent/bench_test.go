package agent_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/anyctl/anyctl/agent"
	"github.com/anyctl/anyctl/agent/speaker/speakertest"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// minTrials is the least number of trials a latency benchmark runs, whatever
// b.N is, so that its percentiles mean something. With fewer than 100
// trials the nearest-rank p99 is the slowest trial.
const minTrials = 20

// benchTmpl is PoP tokyo peering with one router, and one service whose
// check has a 100ms interval and no damping (holdDown 0s), so that a
// target brought back is announced again at its next probe.
const benchTmpl = `
apiVersion: anycast.anyctl.io/v1
kind: Pop
metadata: {name: tokyo}
spec:
  location: {latitude: 35.6762, longitude: 139.6503, country: JP, continent: AS, region: apac, city: Tokyo}
  localAsn: 64512
  routerId: 192.0.2.254
  peers:
    - {address: 127.0.0.1, port: {{.RouterPort}}, peerAsn: 64500, holdTime: 9s}
---
apiVersion: anycast.anyctl.io/v1
kind: AnycastService
metadata: {name: edge}
spec:
  prefixes: [192.0.2.0/24]
  pops: {names: [tokyo]}
  healthCheck: {protocol: {{.Protocol}}, target: "127.0.0.1:{{.CheckPort}}", {{if eq .Protocol "http"}}path: /health, {{end}}interval: 100ms, timeout: 50ms, rise: {{.Rise}}, fall: {{.Fall}}}
  announce: {communities: ["64512:{{.Community}}"]}
  holdDown: 0s
  flapWindow: 1ms
`

type benchParams struct {
	RouterPort int
	Protocol   string
	CheckPort  int
	Rise, Fall int
	Community  int
}

var benchPrefix = netip.MustParsePrefix("192.0.2.0/24")

// benchLab is a controller, one router that timestamps route changes, a TCP
// and an HTTP health target, and the agent of PoP tokyo.
type benchLab struct {
	ctrl   *controllertest.Running
	router *eventRouter
	tcp    *target
	http   *httpTarget
	agent  *runningAgent
	p      benchParams
}

func newBenchLab(b *testing.B) *benchLab { return startBenchLab(b, 0) }

// startBenchLab starts a bench lab whose agent reports every
// statusInterval besides on change (zero: the agent's default).
func startBenchLab(tb testing.TB, statusInterval time.Duration) *benchLab {
	tb.Helper()
	l := &benchLab{ctrl: controllertest.Start(tb), router: startEventRouter(tb), tcp: startTarget(tb), http: startHTTPTarget(tb)}
	l.p = benchParams{RouterPort: int(l.router.port), Protocol: "tcp", CheckPort: l.tcp.port, Rise: 1, Fall: 1, Community: 1}
	l.agent = runAgent(tb, agent.Config{
		Pop:            "tokyo",
		Controller:     l.ctrl.Addr,
		StateDir:       tb.TempDir(),
		Origination:    agent.Origination{AllowedPrefixes: []string{"192.0.2.0/24"}},
		ShutdownGrace:  agent.Duration(-1), // none: stop at once
		StatusInterval: agent.Duration(statusInterval),
		Logger:         slog.New(slog.DiscardHandler),
	})
	l.apply(tb)
	return l
}

// apply applies the lab's parameters and waits until the agent runs the
// resulting config and the router holds the prefix.
func (l *benchLab) apply(tb testing.TB) {
	tb.Helper()
	rev := l.applyOnly(tb)
	speakertest.Await(tb, "agent running the applied config with the route announced", func() bool {
		st := l.agent.a.Status()
		if st.GetConfigRevision() < rev || !l.router.holds(benchPrefix) {
			return false
		}
		for _, c := range st.GetChecks() {
			if c.GetService() == "edge" {
				return c.GetHealthy()
			}
		}
		return false
	}, func() string { return fmt.Sprint(l.agent.a.Status()) })
}

// applyOnly applies the lab's parameters and returns the store revision.
func (l *benchLab) applyOnly(tb testing.TB) int64 {
	tb.Helper()
	var buf bytes.Buffer
	if err := template.Must(template.New("bench").Parse(benchTmpl)).Execute(&buf, l.p); err != nil {
		tb.Fatal(err)
	}
	objs, err := manifest.Decode(&buf, "bench.yaml")
	if err != nil {
		tb.Fatalf("decoding desired state: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := l.ctrl.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs})
	if err != nil {
		tb.Fatalf("apply: %v", err)
	}
	return resp.GetRevision()
}

// BenchmarkFailover measures, at the router, the time from the health
// target going down (its listener and connections closed, as a dying
// process does) to the withdrawal arriving in the router's RIB, through the
// whole agent: checker, damper, agent loop, speaker, GoBGP, BGP session.
// The check probes every 100ms with rise 1. Between trials the target comes
// back and the route is announced again (no damping); the target then stays
// up for two probe intervals and a random phase of a third before the next
// kill. The flap case kills it again within one interval of the
// re-announcement instead: a service that dies again right after it came
// back. It reports the median and the 99th percentile in milliseconds:
//
//	go test -run '^$' -bench Failover -benchtime 20x ./agent/
//
// ns/op is the wall time of a whole trial (kill, withdrawal, return,
// re-announcement, time up) and means little.
func BenchmarkFailover(b *testing.B) {
	l := newBenchLab(b)
	cases := []struct {
		protocol string
		fall     int
		flap     bool
	}{{"tcp", 1, false}, {"tcp", 2, false}, {"http", 1, false}, {"http", 2, false}, {"tcp", 1, true}}
	for _, c := range cases {
		name := fmt.Sprintf("%s/fall%d", c.protocol, c.fall)
		up := 2 * checkInterval
		if c.flap {
			name, up = name+"/flap", 0
		}
		b.Run(name, func(b *testing.B) {
			kill, revive := l.tcp.down, func() { l.tcp.up(b) }
			l.p.Protocol, l.p.CheckPort, l.p.Fall = c.protocol, l.tcp.port, c.fall
			if c.protocol == "http" {
				kill, revive = l.http.down, func() { l.http.up(b) }
				l.p.CheckPort = l.http.port
			}
			l.apply(b)
			failoverTrial(b, l, up, kill, revive) // warm-up, not counted
			var lat []time.Duration
			for b.Loop() {
				lat = append(lat, failoverTrial(b, l, up, kill, revive))
			}
			for len(lat) < minTrials {
				lat = append(lat, failoverTrial(b, l, up, kill, revive))
			}
			report(b, lat)
		})
	}
}

// checkInterval is the probe interval of benchTmpl's check.
const checkInterval = 100 * time.Millisecond

// failoverTrial lets the target stay up for at least up and a random phase
// of the probe grid, kills it, returns how long the withdrawal took to reach
// the router, and revives the target and waits for the re-announcement.
func failoverTrial(b *testing.B, l *benchLab, up time.Duration, kill, revive func()) time.Duration {
	b.Helper()
	speakertest.Await(b, "route announced before the kill", func() bool { return l.router.holds(benchPrefix) },
		func() string { return "not announced" })
	<-time.After(up + rand.N(checkInterval)) // the service's time up, not synchronisation
	l.router.drain()
	killed := time.Now()
	kill()
	ev := l.router.next(b, benchPrefix, 5*time.Second, "withdrawal", func(ev routeEvent) bool { return ev.withdrawn })
	revive()
	l.router.next(b, benchPrefix, 5*time.Second, "re-announcement", func(ev routeEvent) bool { return !ev.withdrawn })
	return ev.at.Sub(killed)
}

// BenchmarkChangePropagation measures the time from Admin.Apply returning
// with a new community on the service to the router holding the route with
// it: controller watch and compile, the agent stream, the agent persisting
// and applying the config, the speaker and the BGP session. It reports the
// median and the 99th percentile in milliseconds, and the same for the
// Apply call itself:
//
//	go test -run '^$' -bench ChangePropagation -benchtime 50x ./agent/
func BenchmarkChangePropagation(b *testing.B) {
	l := newBenchLab(b)
	var lat, applied []time.Duration
	trial := func() {
		l.p.Community++
		want := uint32(64512)<<16 | uint32(l.p.Community)
		l.router.drain()
		began := time.Now()
		l.applyOnly(b)
		returned := time.Now()
		ev := l.router.next(b, benchPrefix, 10*time.Second, "route with community 64512:"+fmt.Sprint(l.p.Community), func(ev routeEvent) bool {
			return !ev.withdrawn && slices.Contains(ev.communities, want)
		})
		lat = append(lat, ev.at.Sub(returned))
		applied = append(applied, returned.Sub(began))
	}
	trial() // warm-up, not counted
	lat, applied = lat[:0], applied[:0]
	for b.Loop() {
		trial()
	}
	for len(lat) < minTrials {
		trial()
	}
	report(b, lat)
	slices.Sort(applied)
	b.ReportMetric(ms(percentile(applied, 0.50)), "apply-p50-ms")
	b.ReportMetric(ms(percentile(applied, 0.99)), "apply-p99-ms")
}

// report sorts the latencies and reports their median and 99th percentile.
func report(b *testing.B, lat []time.Duration) {
	b.Helper()
	slices.Sort(lat)
	p50, p99 := percentile(lat, 0.50), percentile(lat, 0.99)
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p99), "p99-ms")
	b.Logf("%d trials: p50 %v, p99 %v, min %v, max %v", len(lat), p50, p99, lat[0], lat[len(lat)-1])
}

// percentile of sorted durations, nearest rank.
func percentile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// httpTarget is an HTTP health target answering 200 on /health that can be
// stopped and started again on the same port.
type httpTarget struct {
	port int
	mu   sync.Mutex // guards srv
	srv  *http.Server
}

func startHTTPTarget(t testing.TB) *httpTarget {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ht := &httpTarget{port: lis.Addr().(*net.TCPAddr).Port}
	ht.serve(lis)
	t.Cleanup(ht.down)
	return ht
}

func (ht *httpTarget) serve(lis net.Listener) {
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) }),
		ReadHeaderTimeout: 5 * time.Second,
	}
	ht.mu.Lock()
	ht.srv = srv
	ht.mu.Unlock()
	go srv.Serve(lis)
}

// down closes the listener and every connection, as a dying server does.
func (ht *httpTarget) down() {
	ht.mu.Lock()
	defer ht.mu.Unlock()
	if ht.srv != nil {
		ht.srv.Close()
		ht.srv = nil
	}
}

func (ht *httpTarget) up(t testing.TB) {
	t.Helper()
	lis, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", ht.port))
	if err != nil {
		t.Fatalf("restarting HTTP health target: %v", err)
	}
	ht.serve(lis)
}
