package lab

import (
	"testing"
	"time"
)

// labRun is the lab and the test's instruments in it.
type labRun struct {
	l       *labEnv
	client  *prober
	updates *events // UPDATEs leaving tokyo; nil without tcpdump
	routes  *events // the router's kernel route changes
}

// TestLab brings the routed lab up and runs its checks in order, each on
// the state the one before left; a failed check ends the test.
func TestLab(t *testing.T) {
	requireLab(t)
	began := time.Now()
	l := startLab(t)
	r := &labRun{l: l, routes: startRouteMonitor(t, l), updates: startUpdateCapture(t, l, "tokyo"), client: startProber(t, l)}
	for _, step := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"NearestPopAnswers", r.nearestPopAnswers},
		{"FailoverToNextPop", r.failover},
		{"DrainLosesNoRequest", r.drain},
		{"ControllerKillChangesNoRoute", r.controllerKill},
	} {
		if !t.Run(step.name, step.run) {
			return
		}
	}
	t.Logf("lab test took %v before teardown", time.Since(began).Round(time.Millisecond))
}

// nearestPopAnswers checks that the router ranks the PoPs by their distance
// and that the client is answered by the nearest, tokyo.
func (r *labRun) nearestPopAnswers(t *testing.T) {
	v := r.l.router(t)
	want := map[string]string{"tokyo": "64512", "london": "64512 64512", "newyork": "64512 64512 64512"}
	for pop, path := range want {
		if got := v.paths[pop].asPath; got != path {
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
	back := r.routes.await(t, "the router's route back to tokyo", from, 30*time.Second, routeVia("tokyo"))
	r.client.awaitPop(t, "tokyo", mark, back, 10*time.Second)
}
