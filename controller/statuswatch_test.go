package controller

import (
	"fmt"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestHealthChangedOnlyWhenChecksMove: a report that names another config
// revision (what every agent sends after a change) publishes the reports
// but leaves HealthChanged open, so the leader does not recompute the
// holds for it; a check's result that moves, a new report and a report
// that goes close it.
func TestHealthChangedOnlyWhenChecksMove(t *testing.T) {
	h := newHarness(t)
	h.run(h.sw.run)
	awaitClosed(t, "the status watcher ready", h.sw.Ready())
	put := func(pop string, rev int64, healthy bool) {
		t.Helper()
		st := &v1.PopStatus{Pop: pop, ConfigRevision: rev, Checks: []*v1.CheckStatus{{Service: "edge-dns", Healthy: healthy, LastResult: "ok"}}}
		b, err := proto.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.cli.Put(t.Context(), store.StatusKey(pop), string(b)); err != nil {
			t.Fatal(err)
		}
	}
	// step runs f and waits for its report to be published; it reports
	// whether HealthChanged closed meanwhile. Reports may show a report
	// before its publish (they are copied when asked for): the publish is
	// when the reports' channel closes, with HealthChanged's.
	step := func(f func(), published func(map[string]*v1.PopStatus) bool) bool {
		t.Helper()
		health := h.sw.HealthChanged()
		_, changed := h.sw.Reports()
		f()
		awaitTrue(t, "the report in the reports", func() bool { r, _ := h.sw.Reports(); return published(r) })
		awaitClosed(t, "the report published", changed)
		select {
		case <-health:
			return true
		default:
			return false
		}
	}
	at := func(pop string, rev int64) func(map[string]*v1.PopStatus) bool {
		return func(r map[string]*v1.PopStatus) bool { return r[pop].GetConfigRevision() == rev }
	}
	if !step(func() { put("tokyo", 1, true) }, at("tokyo", 1)) {
		t.Fatal("a new report left HealthChanged open")
	}
	if step(func() { put("tokyo", 2, true) }, at("tokyo", 2)) {
		t.Fatal("a report naming another config revision, checks as they were, closed HealthChanged")
	}
	if !step(func() { put("tokyo", 2, false) }, func(r map[string]*v1.PopStatus) bool { return !r["tokyo"].GetChecks()[0].GetHealthy() }) {
		t.Fatal("a check turning unhealthy left HealthChanged open")
	}
	if !step(func() {
		if _, err := h.cli.Delete(t.Context(), store.StatusKey("tokyo")); err != nil {
			t.Fatal(err)
		}
	}, func(r map[string]*v1.PopStatus) bool { _, ok := r["tokyo"]; return !ok }) {
		t.Fatal("a report that went left HealthChanged open")
	}
}

// TestObservedFollowsProbeChanges: the origin verdicts and RTTs derived
// from the reports follow what the probes say (an RTT beyond its rounding,
// a probe turning down) across reports that change only elsewhere.
func TestObservedFollowsProbeChanges(t *testing.T) {
	h := newHarness(t)
	h.run(h.sw.run)
	awaitClosed(t, "the status watcher ready", h.sw.Ready())
	put := func(rev int64, rtt time.Duration, healthy bool) {
		t.Helper()
		st := &v1.PopStatus{Pop: "tokyo", ConfigRevision: rev,
			OriginProbes: []*v1.OriginProbeResult{{Origin: "eu-west", Healthy: healthy, LastResult: "ok", Rtt: durationpb.New(rtt)}}}
		b, err := proto.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.cli.Put(t.Context(), store.StatusKey("tokyo"), string(b)); err != nil {
			t.Fatal(err)
		}
		awaitTrue(t, "the report published", func() bool { r, _ := h.sw.Reports(); return proto.Equal(r["tokyo"], st) })
	}
	rtt := func() time.Duration { obs, _ := h.obs.Current(); return obs.RTT["tokyo"]["eu-west"] }
	up := func() bool { obs, _ := h.obs.Current(); return obs.OriginHealth["eu-west"].Healthy }

	// The observed state is set just after the reports are published.
	put(1, 20*time.Millisecond, true)
	awaitTrue(t, "RTT 20ms, eu-west up", func() bool { return rtt() == 20*time.Millisecond && up() })
	put(2, 35*time.Millisecond, true)
	awaitTrue(t, "RTT 35ms after the probe measured it", func() bool { return rtt() == 35*time.Millisecond })
	put(3, 35*time.Millisecond+10*time.Microsecond, false) // the same RTT at its rounding, now down
	awaitTrue(t, "eu-west down after the only PoP probing it saw it down", func() bool { return !up() })
	put(4, 35*time.Millisecond, true)
	awaitTrue(t, "eu-west up again", up)
}

// TestReportsCopiedWhenAsked: publishing a burst of reports does not copy
// the fleet's reports; Reports copies them once after a publish, and
// what it returns holds every report published.
func TestReportsCopiedWhenAsked(t *testing.T) {
	w := &statusWatcher{obs: newObserver(), live: map[string]*v1.PopStatus{}, reports: map[string]*v1.PopStatus{}, copied: true,
		changed: make(chan struct{}), health: make(chan struct{})}
	st := func(pop string, rev int64) *v1.PopStatus { return &v1.PopStatus{Pop: pop, ConfigRevision: rev} }
	// Each Apply finds a publish scheduled, and schedules none: this test
	// publishes.
	apply := func(changes []store.Change[string, *v1.PopStatus], rev int64) {
		w.liveMu.Lock()
		w.flushing = true
		w.liveMu.Unlock()
		w.Apply(changes, rev)
	}
	apply([]store.Change[string, *v1.PopStatus]{{Key: "tokyo", Value: st("tokyo", 1)}, {Key: "osaka", Value: st("osaka", 1)}}, 2)
	w.publish() // a new report moves the probes: copied for the verdicts
	first, _ := w.Reports()
	for rev := int64(2); rev < 10; rev++ {
		apply([]store.Change[string, *v1.PopStatus]{{Key: "tokyo", Value: st("tokyo", rev)}}, rev+1)
		w.publish()
		w.mu.Lock()
		copied := w.copied
		w.mu.Unlock()
		if copied {
			t.Fatalf("publish %d of a report naming another config revision copied the reports", rev)
		}
	}
	got, _ := w.Reports()
	again, _ := w.Reports()
	if got["tokyo"].GetConfigRevision() != 9 || got["osaka"].GetConfigRevision() != 1 || len(got) != 2 {
		t.Fatalf("reports after the burst: %v", got)
	}
	if fmt.Sprintf("%p", got) != fmt.Sprintf("%p", again) || fmt.Sprintf("%p", got) == fmt.Sprintf("%p", first) {
		t.Fatal("Reports copied twice after one publish, or not after it")
	}
	if first["tokyo"].GetConfigRevision() != 1 {
		t.Fatalf("a copy handed out changed afterwards: %v", first)
	}
}
