package lab

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Failover through both routers and over both families: fewer trials than
// the FRR IPv4 report, each watched from all four vantages at once.
const (
	everyTrials     = 6
	everyProbeEvery = 10 * time.Millisecond
)

// moved is one vantage's view of one failover, from the moment tokyo's
// service was killed.
type moved struct {
	client time.Duration // to the client's first answer from london
	route  time.Duration // to the router's kernel route to london
	update time.Duration // to tokyo's withdrawal UPDATE on the session
	split  bool          // update was measured
}

func (m moved) String() string {
	if !m.split {
		return fmt.Sprintf("%v (kernel route %v)", ms(m.client), ms(m.route))
	}
	return fmt.Sprintf("%v (agent %v, router to kernel route %v)", ms(m.client), ms(m.update), ms(m.route-m.update))
}

// watch is one vantage's instruments.
type watch struct {
	probes  *prober
	routes  *events // the router's kernel route changes
	updates *events // UPDATEs from tokyo on the session; nil without tcpdump
}

// failoverEverywhere kills tokyo's service a few times and checks that
// every client, behind FRR and behind BIRD, over IPv4 and over IPv6, is
// then answered by london; it reports how long each took and, with
// tcpdump, how much of it was the agent's and the router's.
func (r *labRun) failoverEverywhere(t *testing.T) {
	watches := map[vantage]watch{frr4: {r.client, r.routes, r.updates}}
	for _, v := range vantages {
		if v != frr4 {
			watches[v] = watch{startProber(t, r.l, v, everyProbeEvery), startRouteMonitor(t, r.l, v), startUpdateCapture(t, r.l, v, "tokyo")}
		}
	}
	r.awaitTokyoEverywhere(t, watches)

	trials := map[vantage][]moved{}
	for i := range everyTrials {
		marks := map[vantage]int{}
		for v, w := range watches {
			marks[v] = w.probes.mark()
		}
		killed := r.l.kill(t, "svc-tokyo")
		var line []string
		for _, v := range vantages {
			m := watches[v].moved(t, v, marks[v], killed)
			trials[v] = append(trials[v], m)
			line = append(line, fmt.Sprintf("%v %v", v, m))
		}
		t.Logf("trial %d: %s", i+1, strings.Join(line, "; "))
		r.l.run(t, "svc-start", "tokyo")
		r.awaitTokyoEverywhere(t, watches)
	}
	t.Log("\n" + everyReport(trials))
}

// moved waits until v's client is answered by london after killed, and
// reads when v's router changed its kernel route and, with tcpdump, when
// tokyo sent it the withdrawal.
func (w watch) moved(t *testing.T, v vantage, mark int, killed time.Time) moved {
	t.Helper()
	answer := w.probes.await(t, fmt.Sprintf("%v: %s answered by london", v, v.up.client), mark, 10*time.Second,
		func(p probeResult) bool { return p.pop == "london" && !p.start.Before(killed) })
	route := w.routes.await(t, fmt.Sprintf("%v: %s's kernel route to london", v, v.up.ns), killed, 5*time.Second, v.routeVia("london"))
	m := moved{client: answer.end.Sub(killed), route: route.Sub(killed)}
	if w.updates != nil {
		update := w.updates.await(t, fmt.Sprintf("%v: tokyo's withdrawal UPDATE", v), killed, 5*time.Second, nil)
		m.update, m.split = update.Sub(killed), true
	}
	return m
}

// awaitTokyoEverywhere waits until every router's kernel route points to
// tokyo and then every client is answered by tokyo over HTTP and DNS.
func (r *labRun) awaitTokyoEverywhere(t *testing.T, watches map[vantage]watch) {
	t.Helper()
	for _, v := range vantages {
		poll(t, fmt.Sprintf("%v: %s's kernel route back to tokyo", v, v.up.ns), 20*time.Millisecond, 30*time.Second,
			func() bool { return r.l.kernelRoute(t, v) == "tokyo" }, func() string { return r.l.prefixView(t, v).String() })
		w := watches[v]
		w.probes.awaitPop(t, "tokyo", w.probes.mark(), time.Now(), 10*time.Second)
	}
}

// everyReport is the table of medians and worst cases by vantage.
func everyReport(trials map[vantage][]moved) string {
	var b strings.Builder
	fmt.Fprintf(&b, "failover tokyo -> london through both routers, over both families: %d trials, "+
		"clients probing every %v (FRR IPv4: every %v); median / worst\n", everyTrials, everyProbeEvery, probeEvery)
	fmt.Fprintf(&b, "%-10s %-26s %-26s %-26s\n", "", "client answered by london", "agent: killed -> UPDATE", "router: UPDATE -> kernel")
	cell := func(ts []moved, get func(moved) time.Duration) string {
		var ds []time.Duration
		for _, m := range ts {
			ds = append(ds, get(m))
		}
		slices.Sort(ds)
		return fmt.Sprintf("%v / %v", ms(median(ds)), ms(ds[len(ds)-1]))
	}
	for _, v := range vantages {
		ts := trials[v]
		if len(ts) == 0 {
			continue
		}
		agent, router := "-", "-"
		if ts[0].split {
			agent = cell(ts, func(m moved) time.Duration { return m.update })
			router = cell(ts, func(m moved) time.Duration { return m.route - m.update })
		}
		fmt.Fprintf(&b, "%-10v %-26s %-26s %-26s\n", v, cell(ts, func(m moved) time.Duration { return m.client }), agent, router)
	}
	return b.String()
}
