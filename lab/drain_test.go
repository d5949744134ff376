package lab

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// drainPeriod is how long london's announcement carries GRACEFUL_SHUTDOWN
// before it is withdrawn.
const drainPeriod = 3 * time.Second

// drain stops tokyo's service so that london serves, drains london (the
// client moves to newyork, and so does BIRD's route, by its GRACEFUL_SHUTDOWN
// filter) and undrains it (back to london), and fails on any client
// request that fails in between.
func (r *labRun) drain(t *testing.T) {
	mark := r.client.mark()
	killed := r.l.kill(t, "svc-tokyo")
	r.client.awaitPop(t, "london", mark, killed, 10*time.Second)

	mark = r.client.mark()
	began := time.Now()
	if out, err := r.l.anyctl("drain", "pop", "london", "--period", drainPeriod.String()); err != nil {
		t.Fatalf("anyctl drain pop london: %v\n%s", err, out)
	}
	atNewyork := r.client.awaitPop(t, "newyork", mark, began, 2*time.Minute)
	r.birdHonoursGshut(t, began)
	drained := r.awaitStep(t, "london", "drained", 2*time.Minute)
	if v := r.l.router(t); v.kernel != "newyork" {
		t.Errorf("london drained, but the router: %v", v)
	}

	undrain := time.Now()
	if out, err := r.l.anyctl("undrain", "pop", "london"); err != nil {
		t.Fatalf("anyctl undrain pop london: %v\n%s", err, out)
	}
	atLondon := r.client.awaitPop(t, "london", mark, undrain, 2*time.Minute)
	serving := r.awaitStep(t, "london", "serving", 2*time.Minute)
	ended := time.Now()
	r.client.settle(t, mark, ended)

	t.Logf("drain: client at newyork %v after the drain command, london drained after %v; "+
		"undrain: client back at london after %v, london serving after %v",
		ms(atNewyork.Sub(began)), ms(drained.Sub(began)), ms(atLondon.Sub(undrain)), ms(serving.Sub(undrain)))
	var total, switched int
	var failed []probeResult
	for _, p := range r.client.since(mark) {
		if p.start.Before(began) || p.start.After(ended) {
			continue
		}
		total++
		switch {
		case p.err == "":
		case r.brokenBySwitch(p):
			switched++
			t.Logf("not counted as failed: %v: its connection was open while the router moved the route (anycast keeps no per-flow state)", p)
		default:
			failed = append(failed, p)
		}
	}
	t.Logf("drain and undrain: %d client requests, %d failed, %d HTTP connections reset by a route change while open; router route changes: %s",
		total, len(failed), switched, r.routeChanges(began, ended))
	for i, p := range failed {
		if i == 5 {
			t.Errorf("... and %d more", len(failed)-5)
			break
		}
		t.Errorf("failed during drain/undrain: %v", p)
	}
	r.restoreTokyo(t)
}

// awaitStep polls anyctl status until pop's STEP column shows step, and
// returns when it first did.
func (r *labRun) awaitStep(t *testing.T, pop, step string, timeout time.Duration) time.Time {
	t.Helper()
	var last string
	poll(t, fmt.Sprintf("%s's drain step to be %q", pop, step), 50*time.Millisecond, timeout, func() bool {
		got, err := r.popStatus(pop)
		last = fmt.Sprint(got, err)
		return err == nil && len(got) > 1 && got[1] == step
	}, func() string { return "last status line: " + last })
	return time.Now()
}

// popStatus is pop's line of anyctl status --pops, split into its columns.
func (r *labRun) popStatus(pop string) ([]string, error) {
	out, err := r.l.anyctl("status", "--pops")
	if err != nil {
		return nil, fmt.Errorf("anyctl status: %w: %s", err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == pop {
			return f, nil
		}
	}
	return nil, fmt.Errorf("anyctl status has no line for %q:\n%s", pop, out)
}

// brokenBySwitch reports whether a failed request is an HTTP connection
// reset while the router's route changed: the connection was made with one
// PoP and its later packets reached another, which knows nothing of it. No
// control plane prevents that (anycast keeps no per-flow state); draining
// exists so that no request finds no PoP. The route change must fall
// within the request's life (ip monitor stamps it a little late).
func (r *labRun) brokenBySwitch(p probeResult) bool {
	if p.kind != "http" || !strings.Contains(p.err, "connection reset by peer") {
		return false
	}
	ev, ok := r.routes.first(p.start, func(ev event) bool { return !strings.HasPrefix(ev.line, "Deleted") })
	return ok && !ev.at.After(p.end.Add(5*time.Millisecond))
}

// routeChanges lists the PoPs the router's kernel route moved to between
// from and to.
func (r *labRun) routeChanges(from, to time.Time) string {
	var moves []string
	for at := from; ; {
		ev, ok := r.routes.first(at, nil)
		if !ok || ev.at.After(to) {
			break
		}
		f := strings.Fields(ev.line)
		for i := range f[:len(f)-1] {
			if f[i] == "via" {
				moves = append(moves, fmt.Sprintf("%s at +%v", popByAddr(f[i+1]), ms(ev.at.Sub(from))))
			}
		}
		at = ev.at.Add(time.Nanosecond)
	}
	if len(moves) == 0 {
		return "none"
	}
	return strings.Join(moves, ", ")
}
