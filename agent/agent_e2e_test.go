package agent_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/anyctl/anyctl/agent"
	"github.com/anyctl/anyctl/agent/speaker"
	"github.com/anyctl/anyctl/agent/speaker/speakertest"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/validation"
)

const (
	popASN    = 64512
	routerASN = 64500
)

var (
	loopback4 = netip.MustParseAddr("127.0.0.1")
	loopback6 = netip.MustParseAddr("::1")
)

// desiredTmpl is the desired state the tests apply: PoP tokyo peers with an
// IPv4 and an IPv6 router; edge-dns is assigned to it, edge-far only to
// london, and rogue (outside the agent's allowlist) to tokyo.
const desiredTmpl = `
apiVersion: anycast.anyctl.io/v1
kind: Pop
metadata: {name: tokyo}
spec:
  location: {latitude: 35.6762, longitude: 139.6503, country: JP, continent: AS, region: apac, city: Tokyo}
  localAsn: 64512
  routerId: 192.0.2.254
  peers:
    - {address: 127.0.0.1, port: {{.Port4}}, peerAsn: 64500, holdTime: 9s}
    - {address: "::1", port: {{.Port6}}, peerAsn: 64500, holdTime: 9s}
---
apiVersion: anycast.anyctl.io/v1
kind: Pop
metadata: {name: london}
spec:
  location: {latitude: 51.5074, longitude: -0.1278, country: GB, continent: EU, region: emea, city: London}
  localAsn: 64512
  routerId: 192.0.2.253
  peers:
    - {address: 198.51.100.1, peerAsn: 64501}
---
apiVersion: anycast.anyctl.io/v1
kind: AnycastService
metadata: {name: edge-dns}
spec:
  prefixes: [192.0.2.0/24, "2001:db8:53::/48"]
  pops: {names: [tokyo]}
  healthCheck: {protocol: tcp, target: "127.0.0.1:{{.CheckPort}}", interval: 100ms, timeout: 50ms, rise: 2, fall: 1}
  announce:
    communities: [{{.Community}}]
    largeCommunities: ["64512:1:53"]
    med: 10
    asPathPrepend: {{.Prepend}}
  holdDown: {{.HoldDown}}
  holdDownMax: 10s
  flapWindow: 1m
---
apiVersion: anycast.anyctl.io/v1
kind: AnycastService
metadata: {name: edge-far}
spec:
  prefixes: [203.0.113.0/24]
  pops: {names: [london]}
  healthCheck: {protocol: tcp, target: "127.0.0.1:{{.CheckPort}}", interval: 1s, timeout: 500ms, rise: 1, fall: 1}
---
apiVersion: anycast.anyctl.io/v1
kind: AnycastService
metadata: {name: rogue}
spec:
  prefixes: [198.51.100.0/24]
  pops: {names: [tokyo]}
  healthCheck: {protocol: tcp, target: "127.0.0.1:{{.CheckPort}}", interval: 100ms, timeout: 50ms, rise: 1, fall: 1}
`

type params struct {
	Port4, Port6, CheckPort int
	Community               string
	Prepend                 int
	HoldDown                string
}

var (
	edgeV4  = netip.MustParsePrefix("192.0.2.0/24")
	edgeV6  = netip.MustParsePrefix("2001:db8:53::/48")
	farV4   = netip.MustParsePrefix("203.0.113.0/24")
	rogueV4 = netip.MustParsePrefix("198.51.100.0/24")
)

// lab is a controller, two upstream routers and a health target.
type lab struct {
	ctrl   *controllertest.Running
	r4, r6 *speakertest.Router
	target *target
	p      params
}

func newLab(t *testing.T) *lab {
	t.Helper()
	l := &lab{ctrl: controllertest.Start(t)}
	l.r4 = speakertest.StartRouter(t, routerASN, speakertest.ListenOn(loopback4))
	l.r4.AddNeighbor(t, loopback4, popASN)
	l.r6 = speakertest.StartRouter(t, routerASN, speakertest.ListenOn(loopback6))
	l.r6.AddNeighbor(t, loopback6, popASN)
	l.target = startTarget(t)
	l.p = params{Port4: int(l.r4.Port()), Port6: int(l.r6.Port()), CheckPort: l.target.port, Community: `"64512:100"`, Prepend: 2, HoldDown: "400ms"}
	l.apply(t)
	return l
}

func (l *lab) apply(t *testing.T) {
	t.Helper()
	var buf bytes.Buffer
	template.Must(template.New("desired").Parse(desiredTmpl)).Execute(&buf, l.p)
	objs, err := manifest.Decode(&buf, "desired.yaml")
	if err != nil {
		t.Fatalf("decoding desired state: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := l.ctrl.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

// check returns the agent's status of the named service's check.
func (ra *runningAgent) check(name string) *v1.CheckStatus {
	for _, c := range ra.a.Status().GetChecks() {
		if c.GetService() == name {
			return c
		}
	}
	return nil
}

func (ra *runningAgent) prefix(p netip.Prefix) *v1.PrefixStatus { return prefixIn(ra.a.Status(), p) }

// prefixIn returns a status's report on prefix p, nil when it has none.
func prefixIn(st *v1.PopStatus, p netip.Prefix) *v1.PrefixStatus {
	for _, s := range st.GetPrefixes() {
		if s.GetPrefix() == p.String() {
			return s
		}
	}
	return nil
}

func TestAgentAnnouncesAssignedPrefixesWithCompiledAttributes(t *testing.T) {
	l := newLab(t)
	ra := startAgent(t, l.ctrl.Addr, t.TempDir(), 0)

	want := func(r speakertest.Route) bool {
		return r.HasCommunity(64512<<16|100) && len(r.LargeCommunities) == 1 &&
			r.LargeCommunities[0] == (speaker.LargeCommunity{Global: 64512, Local1: 1, Local2: 53}) &&
			r.MED != nil && *r.MED == 10 && r.CountAS(popASN) == 3
	}
	r4 := l.r4.AwaitRoute(t, edgeV4, want)
	if r4.NextHop != loopback4 {
		t.Errorf("IPv4 route next hop = %v, want the session address %v", r4.NextHop, loopback4)
	}
	r6 := l.r6.AwaitRoute(t, edgeV6, want)
	if !r6.NextHop.Is6() || r6.NextHop.Is4In6() {
		t.Errorf("IPv6 route next hop = %v, want an IPv6 address", r6.NextHop)
	}

	// The refused prefix is reported as such, and never reaches a router.
	speakertest.Await(t, "rogue prefix reported refused", func() bool {
		s := ra.prefix(rogueV4)
		return s != nil && !s.GetAnnounced() && len(s.GetReason()) > 0 && s.GetReason()[:8] == "refused:"
	}, func() string { return fmt.Sprint(ra.prefix(rogueV4)) })
	for _, r := range []*speakertest.Router{l.r4, l.r6} {
		for _, p := range []netip.Prefix{rogueV4, farV4} {
			if _, ok := r.Route(t, p); ok {
				t.Errorf("router on %v holds %v, which the agent must never announce", r.Addr(), p)
			}
		}
	}
	t.Logf("rogue prefix: %s", ra.prefix(rogueV4).GetReason())

	// The controller keeps the agent's report and serves it.
	speakertest.Await(t, "controller status shows tokyo announcing edge-dns", func() bool {
		resp, err := l.ctrl.Admin.Status(context.Background(), &v1.StatusRequest{Pop: "tokyo"})
		if err != nil || len(resp.GetPops()) != 1 || resp.GetPops()[0].GetStatus() == nil {
			return false
		}
		for _, b := range resp.GetServices() {
			if b.GetService() == "edge-dns" {
				return len(b.GetAnnouncing()) == 1 && b.GetAnnouncing()[0] == "tokyo"
			}
		}
		return false
	}, func() string { return "no current report" })
}

func TestAgentWithdrawsOnHealthFailureAndDampsTheReturn(t *testing.T) {
	l := newLab(t)
	ra := startAgent(t, l.ctrl.Addr, t.TempDir(), 0)
	l.r4.AwaitRoute(t, edgeV4, nil)

	var holdDowns []time.Duration
	for flap := 1; flap <= 3; flap++ {
		l.target.down()
		l.r4.AwaitNoRoute(t, edgeV4)
		l.r6.AwaitNoRoute(t, edgeV6)
		l.target.up(t)
		// Back up (rise reached) but still held down: not announced yet.
		speakertest.Await(t, "check passing again with a hold-down pending", func() bool {
			c := ra.check("edge-dns")
			return c != nil && c.GetLastResult() == "ok" && c.GetHoldDownLeft().AsDuration() > 0
		}, func() string { return fmt.Sprint(ra.check("edge-dns")) })
		c := ra.check("edge-dns")
		if _, ok := l.r4.Route(t, edgeV4); ok && c.GetHoldDownLeft().AsDuration() > 50*time.Millisecond {
			t.Fatalf("flap %d: route back while hold-down has %v left", flap, c.GetHoldDownLeft().AsDuration())
		}
		holdDowns = append(holdDowns, c.GetHoldDownLeft().AsDuration())
		l.r4.AwaitRoute(t, edgeV4, nil)
		t.Logf("flap %d: hold-down seen %v, flaps %d", flap, c.GetHoldDownLeft().AsDuration(), c.GetFlaps())
	}
	// The hold-down doubles with each flap inside the window (400ms, 800ms,
	// 1.6s): the time left when first seen grows.
	if !(holdDowns[1] > holdDowns[0] && holdDowns[2] > holdDowns[1]) {
		t.Errorf("hold-downs %v: want each flap to lengthen the hold-down", holdDowns)
	}
}

func TestAgentKeepsAnnouncingWithoutController(t *testing.T) {
	l := newLab(t)
	stateDir := t.TempDir()
	ra := startAgent(t, l.ctrl.Addr, stateDir, 0)
	l.r4.AwaitRoute(t, edgeV4, nil)
	l.r6.AwaitRoute(t, edgeV6, nil)

	sessions4, sessions6 := l.r4.SessionsEstablished(loopback4), l.r6.SessionsEstablished(loopback6)

	l.ctrl.Stop(t)
	speakertest.Await(t, "agent noticing the controller is gone", func() bool { return !ra.a.ControllerConnected() },
		func() string { return "still connected" })
	// The loop reconciles after it notes the loss: wait for a report made
	// after that, so that the routes checked are the loop's answer to it.
	lost := time.Now()
	speakertest.Await(t, "a report after the loss, with both prefixes announced", func() bool {
		st := ra.a.Status()
		return st.GetReportedAt().AsTime().After(lost) &&
			prefixIn(st, edgeV4).GetAnnounced() && prefixIn(st, edgeV6).GetAnnounced()
	}, func() string { return fmt.Sprint(ra.a.Status()) })
	if _, ok := l.r4.Route(t, edgeV4); !ok {
		t.Fatal("IPv4 route withdrawn when the controller stopped")
	}
	if _, ok := l.r6.Route(t, edgeV6); !ok {
		t.Fatal("IPv6 route withdrawn when the controller stopped")
	}
	if got4, got6 := l.r4.SessionsEstablished(loopback4), l.r6.SessionsEstablished(loopback6); got4 != sessions4 || got6 != sessions6 {
		t.Errorf("sessions established %d and %d times before the controller stopped, %d and %d after: the loss reset them",
			sessions4, sessions6, got4, got6)
	}

	// Restart the agent while the controller is still down: it runs from the
	// persisted config.
	ra.stop(t)
	l.r4.AwaitDown(t, loopback4)
	l.r4.AwaitNoRoute(t, edgeV4)
	startAgent(t, l.ctrl.Addr, stateDir, 0)
	l.r4.AwaitRoute(t, edgeV4, nil)
	l.r6.AwaitRoute(t, edgeV6, nil)
}

func TestAgentAppliesAttributeChangeWithoutSessionReset(t *testing.T) {
	l := newLab(t)
	startAgent(t, l.ctrl.Addr, t.TempDir(), 0)
	l.r4.AwaitRoute(t, edgeV4, func(r speakertest.Route) bool { return r.CountAS(popASN) == 3 })
	before := l.r4.SessionsEstablished(loopback4)

	l.p.Community = `"64512:100", "64512:999"`
	l.p.Prepend = 4
	l.apply(t)
	l.r4.AwaitRoute(t, edgeV4, func(r speakertest.Route) bool {
		return r.HasCommunity(64512<<16|999) && r.CountAS(popASN) == 5
	})
	l.r6.AwaitRoute(t, edgeV6, func(r speakertest.Route) bool {
		return r.HasCommunity(64512<<16|999) && r.CountAS(popASN) == 5
	})
	if after := l.r4.SessionsEstablished(loopback4); after != before {
		t.Errorf("session established %d times before the change and %d after: the change reset it", before, after)
	}
}

// TestAgentSignalsGracefulShutdownBeforeClosing stops the agent: its routes
// carry GRACEFUL_SHUTDOWN and the drain's prepends on top of the service's
// before the session closes, with Cease/administrative shutdown and a
// message naming the PoP.
func TestAgentSignalsGracefulShutdownBeforeClosing(t *testing.T) {
	l := newLab(t)
	ra := startAgent(t, l.ctrl.Addr, t.TempDir(), 2*time.Second)
	before := l.r4.AwaitRoute(t, edgeV4, func(r speakertest.Route) bool { return !r.HasCommunity(speaker.GracefulShutdown) })

	stopped := make(chan struct{})
	go func() { ra.stop(t); close(stopped) }()
	r := l.r4.AwaitRoute(t, edgeV4, func(r speakertest.Route) bool { return r.HasCommunity(speaker.GracefulShutdown) })
	if !l.r4.Established(loopback4) {
		t.Fatal("session closed before GRACEFUL_SHUTDOWN was seen")
	}
	if got, want := r.CountAS(popASN), before.CountAS(popASN)+validation.DrainPrepend; got != want {
		t.Errorf("during shutdown grace: %v carries the PoP's ASN %d times, want %d (the drain's %d prepends on top)", r, got, want, validation.DrainPrepend)
	}
	t.Logf("during shutdown grace: %v", r)
	l.r4.AwaitDown(t, loopback4)
	<-stopped
	if got, want := l.r4.LastNotification(), "6/2 anyctl agent of PoP tokyo stopping"; got != want {
		t.Errorf("router received NOTIFICATION %q, want %q (Cease, administrative shutdown, RFC 8203 message)", got, want)
	}
}

// TestAgentRetriesTheSpeakerUntilItStarts starts the agent with its BGP
// port taken: while the speaker cannot start, the prefixes are reported not
// announced and why; once the port is free, the agent starts the speaker
// by itself, without a new config, and announces.
func TestAgentRetriesTheSpeakerUntilItStarts(t *testing.T) {
	l := newLab(t)
	busy, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	ra := runAgent(t, agent.Config{
		Pop:            "tokyo",
		Controller:     l.ctrl.Addr,
		StateDir:       t.TempDir(),
		Origination:    agent.Origination{AllowedPrefixes: []string{"192.0.2.0/24", "2001:db8::/32"}},
		ShutdownGrace:  agent.Duration(-1),
		StatusInterval: agent.Duration(200 * time.Millisecond),
		BGPListenPort:  int32(busy.Addr().(*net.TCPAddr).Port),
	})
	speakertest.Await(t, "prefix reported not announced while the speaker cannot start", func() bool {
		s := ra.prefix(edgeV4)
		return s != nil && !s.GetAnnounced() && strings.Contains(s.GetReason(), "BGP speaker not running: ")
	}, func() string { return fmt.Sprint(ra.prefix(edgeV4)) })

	busy.Close()
	l.r4.AwaitRoute(t, edgeV4, nil)
	l.r6.AwaitRoute(t, edgeV6, nil)
	speakertest.Await(t, "prefix reported announced", func() bool { return ra.prefix(edgeV4).GetAnnounced() },
		func() string { return fmt.Sprint(ra.prefix(edgeV4)) })
}
