package lab

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// restartHold is how long the routers are still watched once both are
// through with the agent's restart: its sessions up and no path kept stale.
const restartHold = time.Second

// restartWatch is what the routers showed while tokyo's agent restarted,
// looked at again and again.
type restartWatch struct {
	looks     int
	moved     map[vantage][]string // looks at which best path or kernel route was not tokyo
	stale     map[vantage]int      // looks at which FRR kept tokyo's path stale
	restarted time.Time            // lab.sh agent-restart returned
	through   time.Time            // both routers were through with the restart
}

// agentRestartMovesNothing restarts tokyo's agent as an operator does
// (lab.sh agent-restart: SIGTERM, which with graceful restart exits
// without closing the sessions, then a start) while the clients behind
// both routers probe over both families, and checks that nothing moves:
// no kernel route change at either router, tokyo's path best throughout,
// no failed request and every answer from tokyo; that both routers saw
// the agent's graceful-restart capability, and after the restart its
// Restart State bit and forwarding state; and that the agent sent no
// NOTIFICATION. It logs the UPDATEs each router received from tokyo, how
// long the sessions took to come back, and the agent's log of the restart.
func (r *labRun) agentRestartMovesNothing(t *testing.T) {
	watches := map[vantage]watch{}
	for _, v := range vantages {
		w := watch{probes: r.client, routes: startRouteMonitor(t, r.l, v)}
		if v != frr4 {
			w.probes = startProber(t, r.l, v, everyProbeEvery)
		}
		watches[v] = w
	}
	capture := startBGPCapture(t, r.l, "tokyo")
	r.awaitTokyoEverywhere(t, watches)
	r.routersSawRestartCapability(t)
	frrBefore := r.l.frrNeighbors(t)
	birdBefore := map[vantage]prefixView{}
	for _, v := range vantages {
		if v.up == bird {
			birdBefore[v] = r.l.prefixView(t, v)
		}
	}
	logFrom := r.l.agentLogSize(t, "tokyo")
	marks := map[vantage]int{}
	for v, w := range watches {
		marks[v] = w.probes.mark()
	}

	began := time.Now()
	rw := r.restartWatched(t, began)
	ended := time.Now()
	for v, w := range watches {
		w.probes.settle(t, marks[v], ended)
	}

	lines := r.l.agentLog(t, "tokyo", logFrom)
	var text []string
	for _, l := range lines {
		text = append(text, l.text)
	}
	t.Logf("tokyo's agent log of the restart (%s):\n%s", r.l.agentLogPath("tokyo"), strings.Join(text, "\n"))
	t.Logf("restart: lab.sh agent-restart took %v; both routers through (sessions up, nothing stale) %v after it began; watched until %v (%d looks at every router)",
		ms(rw.restarted.Sub(began)), ms(rw.through.Sub(began)), ms(ended.Sub(began)), rw.looks)
	r.restartSessions(t, lines)
	r.restartRouteChanges(t, watches, rw, began, ended)
	r.restartMessages(t, capture, frrBefore, began)
	r.restartFlagsSeen(t)
	for _, v := range vantages {
		pv, ok := birdBefore[v]
		if !ok {
			continue
		}
		if now := r.l.prefixView(t, v); now.since["tokyo"] != pv.since["tokyo"] {
			t.Logf("%v: BIRD replaced tokyo's route across the restart: taken at %s, was %s", v, now.since["tokyo"], pv.since["tokyo"])
		} else {
			t.Logf("%v: BIRD kept tokyo's route, taken at %s, across the restart", v, pv.since["tokyo"])
		}
	}
	r.restartRequests(t, watches, marks, began, ended)
}

// restartWatched runs lab.sh agent-restart tokyo and looks at every
// router again and again until both are through with the restart, and
// restartHold longer.
func (r *labRun) restartWatched(t *testing.T, began time.Time) restartWatch {
	t.Helper()
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		out, err := r.l.script("agent-restart", "tokyo")
		done <- result{out, err}
	}()
	// A failure below must not leave lab.sh restarting the agent while
	// the lab is torn down.
	t.Cleanup(func() { <-finished })
	rw := restartWatch{moved: map[vantage][]string{}, stale: map[vantage]int{}}
	for deadline := began.Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if rw.restarted.IsZero() {
			select {
			case res := <-done:
				if res.err != nil {
					t.Fatalf("lab.sh agent-restart tokyo: %v\n%s", res.err, res.out)
				}
				rw.restarted = time.Now()
			default:
			}
		}
		r.lookDuringRestart(t, began, &rw)
		if !rw.restarted.IsZero() && rw.through.IsZero() && r.l.throughRestart(t, "tokyo") {
			rw.through = time.Now()
		}
		if !rw.through.IsZero() && time.Since(rw.through) >= restartHold {
			return rw
		}
		if time.Now().After(deadline) {
			t.Fatalf("tokyo's agent restart not over after %v: lab.sh returned %v, routers through %v",
				time.Minute, !rw.restarted.IsZero(), !rw.through.IsZero())
		}
	}
}

// lookDuringRestart reads every vantage's router once and notes a best
// path or kernel route away from tokyo, and FRR keeping tokyo's path
// stale.
func (r *labRun) lookDuringRestart(t *testing.T, began time.Time, rw *restartWatch) {
	t.Helper()
	at := time.Now()
	rw.looks++
	for _, v := range vantages {
		pv := r.l.prefixView(t, v)
		if pv.best != "tokyo" || pv.kernel != "tokyo" {
			rw.moved[v] = append(rw.moved[v], fmt.Sprintf("+%v: %v", ms(at.Sub(began)), pv))
		}
		if pv.stale["tokyo"] {
			rw.stale[v]++
		}
	}
}

// throughRestart reports whether both routers are through with pop's
// agent's restart: every session with it established, FRR keeping no path
// of it stale, BIRD no longer keeping its routes for it.
func (l *labEnv) throughRestart(t *testing.T, pop string) bool {
	t.Helper()
	nbrs := l.frrNeighbors(t)
	for _, v := range vantages {
		switch v.up {
		case frr:
			if nbrs[v.popAddr(pop)].State != "Established" {
				return false
			}
			for _, p := range l.frrPaths(t, v.fam, v.fam.prefix) {
				if p.pop == pop && p.stale {
					return false
				}
			}
		case bird:
			if g := l.birdNeighborGR(t, pop+v.fam.version); g.state != "Established" || g.helping {
				return false
			}
		}
	}
	return true
}
