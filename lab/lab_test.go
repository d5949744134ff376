package lab

import (
	"testing"
	"time"
)

// labRun is the lab and the test's instruments in it.
type labRun struct {
	l       *labEnv
	client  *prober // the client behind FRR, over IPv4
	updates *events // UPDATEs leaving tokyo for FRR; nil without tcpdump
	routes  *events // FRR's kernel route changes for 192.0.2.0/24
}

// TestLab brings the routed lab up and runs its checks in order, each on
// the state the one before left. A failed check ends the test, except one
// marked keepGoing: it only reads the routers, so the checks after it still
// mean what they say.
func TestLab(t *testing.T) {
	requireLab(t)
	began := time.Now()
	l := startLab(t)
	r := &labRun{l: l, routes: startRouteMonitor(t, l, frr4), updates: startUpdateCapture(t, l, frr4, "tokyo"),
		client: startProber(t, l, frr4, probeEvery)}
	for _, step := range []struct {
		name      string
		run       func(*testing.T)
		keepGoing bool
	}{
		{"NearestPopAnswers", r.nearestPopAnswers, false},
		{"NearestPopThroughBothRoutersOverBothFamilies", r.nearestPopEverywhere, false},
		{"RoutersOfferGracefulRestart", r.routersOfferGracefulRestart, true},
		{"PerPeerAttributesAtRouters", r.perPeerAttributes, true},
		{"NoRouteLeakBetweenUpstreams", r.noRouteLeak, true},
		{"FailoverToNextPop", r.failover, false},
		{"FailoverThroughBothRoutersOverBothFamilies", r.failoverEverywhere, false},
		{"DrainLosesNoRequest", r.drain, false},
		{"ControllerKillChangesNoRoute", r.controllerKill, false},
		{"AgentRestartMovesNothing", r.agentRestartMovesNothing, false},
	} {
		if !t.Run(step.name, step.run) && !step.keepGoing {
			break
		}
	}
	t.Logf("lab test took %v before teardown", time.Since(began).Round(time.Millisecond))
}

// nearestPopAnswers checks that FRR ranks the PoPs by their distance and
// that the client is answered by the nearest, tokyo, over IPv4.
func (r *labRun) nearestPopAnswers(t *testing.T) {
	v := r.l.router(t)
	for _, pop := range pops {
		if got, path := v.paths[pop].asPath, distancePath(frr, pop); got != path {
			t.Errorf("router's path from %s has AS path [%s], want [%s]", pop, got, path)
		}
	}
	if v.best != "tokyo" || v.kernel != "tokyo" {
		t.Errorf("router: %v; want tokyo best and in the kernel", v)
	}
	mark := r.client.mark()
	from := time.Now()
	for _, kind := range []string{"http", "dns"} {
		res := r.client.await(t, "a "+kind+" answer", mark, 10*time.Second, func(p probeResult) bool {
			return p.kind == kind && !p.start.Before(from)
		})
		if res.pop != "tokyo" {
			t.Errorf("client's %v; want tokyo to answer", res)
		}
	}
}

// restoreTokyo starts tokyo's service again and waits until the client is
// answered by tokyo, once the hold-down has passed.
func (r *labRun) restoreTokyo(t *testing.T) {
	t.Helper()
	from := time.Now()
	r.l.run(t, "svc-start", "tokyo")
	mark := r.client.mark()
	back := r.routes.await(t, "the router's route back to tokyo", from, 30*time.Second, frr4.routeVia("tokyo"))
	r.client.awaitPop(t, "tokyo", mark, back, 10*time.Second)
}
