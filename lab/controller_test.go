package lab

import (
	"strings"
	"testing"
	"time"
)

// steadyFor is how long the routes are watched for a change while the
// controller is dead and after it is back.
const steadyFor = 2 * time.Second

// controllerKill kills the controller with SIGKILL, restarts it on the same
// data directory, and checks that the router sees no change at all: same
// routes, same sessions, and the client keeps being answered by tokyo.
func (r *labRun) controllerKill(t *testing.T) {
	before := r.l.router(t)
	if before.best != "tokyo" || before.kernel != "tokyo" || len(before.paths) != 3 {
		t.Fatalf("before the kill, the router: %v; want tokyo best of three paths", before)
	}
	mark := r.client.mark()
	began := time.Now()
	r.l.kill(t, "controller")
	r.holdSteady(t, before, "with the controller dead")

	restarted := time.Now()
	r.l.run(t, "ctl-start")
	r.awaitReports(t, restarted)
	t.Logf("controller restarted; every agent reported to it %v later", ms(time.Since(restarted)))
	r.holdSteady(t, before, "after the controller restarted")

	after := r.l.router(t)
	for pop, s := range before.sessions {
		if n := after.sessions[pop].updatesRecv - s.updatesRecv; n != 0 {
			t.Logf("router received %d UPDATEs from %s around the restart (same routes, no session reset)", n, pop)
		}
	}
	ended := time.Now()
	r.client.settle(t, mark, ended)
	var total, other int
	for _, p := range r.client.since(mark) {
		if p.start.Before(began) || p.start.After(ended) {
			continue
		}
		total++
		if p.pop != "tokyo" {
			other++
			if other <= 5 {
				t.Errorf("during the controller's kill and restart, the client's %v; want tokyo", p)
			}
		}
	}
	t.Logf("controller kill and restart: %d client requests over %v, %d not answered by tokyo", total, ms(ended.Sub(began)), other)
}

// holdSteady watches the router for steadyFor and fails on any change from
// want in its routes or sessions.
func (r *labRun) holdSteady(t *testing.T, want routerView, when string) {
	t.Helper()
	until := time.Now().Add(steadyFor)
	checks := 0
	for time.Now().Before(until) {
		if diff := want.sameRouting(r.l.router(t)); diff != "" {
			t.Fatalf("%s, the router changed: %s", when, diff)
		}
		checks++
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%s: routes and sessions unchanged over %v (%d looks)", when, steadyFor, checks)
}

// awaitReports waits until every PoP's agent has reported to the controller
// since it started.
func (r *labRun) awaitReports(t *testing.T, started time.Time) {
	t.Helper()
	var last string
	poll(t, "every agent to report to the restarted controller", 100*time.Millisecond, time.Minute, func() bool {
		for pop := range popAddr {
			f, err := r.popStatus(pop)
			if err != nil {
				last = err.Error()
				return false
			}
			last = strings.Join(f, " ")
			age, ok := reportAge(f)
			if !ok || age > time.Since(started) {
				return false
			}
		}
		return true
	}, func() string { return "last status line: " + last })
}

// reportAge reads "… 258ms ago" at the end of a status line.
func reportAge(fields []string) (time.Duration, bool) {
	n := len(fields)
	if n < 2 || fields[n-1] != "ago" {
		return 0, false
	}
	d, err := time.ParseDuration(fields[n-2])
	return d, err == nil
}
