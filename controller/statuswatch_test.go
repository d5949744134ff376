package controller

import (
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
	// whether HealthChanged closed meanwhile.
	step := func(f func(), published func(map[string]*v1.PopStatus) bool) bool {
		t.Helper()
		health := h.sw.HealthChanged()
		f()
		awaitTrue(t, "the report published", func() bool { r, _ := h.sw.Reports(); return published(r) })
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
