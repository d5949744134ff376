package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// failoverTrials is how many times tokyo's service is killed.
const failoverTrials = 12

// trial is one failover from tokyo to london, from the moment tokyo's
// service was killed.
type trial struct {
	total  time.Duration // to the client's first answer from london
	agent  time.Duration // to tokyo's withdrawal UPDATE on the wire
	router time.Duration // from that UPDATE to the client's first answer from london
	frr    time.Duration // from that UPDATE to the router's kernel route to london
	split  bool          // agent, router and frr were measured
}

// failover kills tokyo's service again and again and measures how long the
// client goes without an answer, and where that time goes. It reports the
// numbers; it asserts only that london takes over every time.
func (r *labRun) failover(t *testing.T) {
	var trials []trial
	for i := range failoverTrials {
		tr := r.failoverOnce(t)
		trials = append(trials, tr)
		t.Logf("trial %2d: %s", i+1, tr)
		r.restoreTokyo(t)
	}
	report := failoverReport(trials)
	t.Log("\n" + report)
	f := filepath.Join(t.TempDir(), "failover.txt")
	if err := os.WriteFile(f, []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("report written to %s", f)
	if extra := os.Getenv("LAB_REPORT"); extra != "" {
		if err := os.WriteFile(extra, []byte(report), 0o644); err != nil {
			t.Errorf("LAB_REPORT: %v", err)
		}
	}
}

func (r *labRun) failoverOnce(t *testing.T) trial {
	t.Helper()
	mark := r.client.mark()
	killed := r.l.kill(t, "svc-tokyo")
	answer := r.client.await(t, "the client answered by london", mark, 10*time.Second, func(p probeResult) bool {
		return p.pop == "london" && !p.start.Before(killed)
	})
	tr := trial{total: answer.end.Sub(killed)}
	if r.updates == nil {
		return tr
	}
	update := r.updates.await(t, "tokyo's withdrawal UPDATE", killed, 5*time.Second, nil)
	route := r.routes.await(t, "the router's kernel route to london", killed, 5*time.Second, frr4.routeVia("london"))
	tr.agent, tr.router, tr.frr, tr.split = update.Sub(killed), answer.end.Sub(update), route.Sub(update), true
	return tr
}

func (tr trial) String() string {
	if !tr.split {
		return fmt.Sprintf("%v", ms(tr.total))
	}
	return fmt.Sprintf("%v (agent %v + router %v, of which FRR to kernel route %v)", ms(tr.total), ms(tr.agent), ms(tr.router), ms(tr.frr))
}

// failoverReport is the table of medians and worst cases.
func failoverReport(trials []trial) string {
	var b strings.Builder
	fmt.Fprintf(&b, "failover tokyo -> london, %d trials, client probing every %v (HTTP and DNS)\n", len(trials), probeEvery)
	fmt.Fprintf(&b, "%-52s %10s %10s\n", "", "median", "worst")
	row := func(name string, get func(trial) time.Duration) {
		var ds []time.Duration
		for _, tr := range trials {
			ds = append(ds, get(tr))
		}
		slices.Sort(ds)
		fmt.Fprintf(&b, "%-52s %10v %10v\n", name, ms(median(ds)), ms(ds[len(ds)-1]))
	}
	row("total: service killed -> client answered by london", func(tr trial) time.Duration { return tr.total })
	if len(trials) > 0 && trials[0].split {
		row("agent: service killed -> withdrawal UPDATE sent", func(tr trial) time.Duration { return tr.agent })
		row("router: UPDATE -> client answered by london", func(tr trial) time.Duration { return tr.router })
		row("  of which FRR: UPDATE -> kernel route changed", func(tr trial) time.Duration { return tr.frr })
	}
	fmt.Fprintf(&b, "goal: median under 350ms, worst under 1s\n")
	for i, tr := range trials {
		fmt.Fprintf(&b, "trial %2d: %s\n", i+1, tr)
	}
	return b.String()
}

// median of sorted durations.
func median(ds []time.Duration) time.Duration {
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return (ds[n/2-1] + ds[n/2]) / 2
}

func ms(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
