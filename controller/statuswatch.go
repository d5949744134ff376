package controller

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

// publishEvery bounds how often the status watcher publishes a changed
// set of reports: publishing wakes whoever follows the reports and may
// recompute the fleet's origin verdicts and RTT matrix, so a burst of
// reports (every agent confirming a new config) is published once, not
// once per report.
const publishEvery = 50 * time.Millisecond

// statusWatcher keeps the PoPs' live reports in memory, current with etcd
// through a store mirror, and derives the fleet's origin health and RTT
// matrix from them. Every replica computes the same verdicts from the same
// reports.
type statusWatcher struct {
	mirror *store.Mirror[string, *v1.PopStatus]
	// heldMirror follows the replicas' records of the config revisions
	// their agents hold beyond their stored reports.
	heldMirror *store.Mirror[string, map[string]int64]
	// ready is closed once both mirrors hold what is stored.
	ready  chan struct{}
	obs    *observer
	quorum float64

	// publishMu serialises publish, so that reports are published in the
	// order they were copied.
	publishMu sync.Mutex
	// liveMu guards live and flushing.
	liveMu sync.Mutex
	// live are the reports as the mirror last saw them.
	live map[string]*v1.PopStatus
	// flushing is true while a publish is scheduled.
	flushing bool
	// pendingFrom is the revision of the first change the scheduled
	// publish holds.
	pendingFrom int64
	// liveHeld are the held-revision records as the mirror last saw them.
	liveHeld heldRevs
	// healthMoved is set when a change since the last publish moved what
	// the reports say of the checks (HealthChanged); probesMoved, of the
	// origin probes (the origin verdicts and RTTs derived from them).
	healthMoved, probesMoved bool

	mu sync.Mutex // guards reports, copied, held, changed and health
	// reports is a copy of live as published, made when first asked for
	// after a publish (copied then set): in a burst of reports nobody
	// reads, the fleet's reports are not copied every publishEvery.
	reports map[string]*v1.PopStatus
	copied  bool
	// held is liveHeld as published.
	held    heldRevs
	changed chan struct{}
	// health is closed when a published change moved the checks' results.
	health chan struct{}
}

func newStatusWatcher(st *store.Store, obs *observer, quorum float64) *statusWatcher {
	w := &statusWatcher{obs: obs, quorum: quorum, reports: map[string]*v1.PopStatus{}, copied: true, changed: make(chan struct{}), health: make(chan struct{}), ready: make(chan struct{})}
	w.mirror = st.StatusMirror(w)
	w.heldMirror = st.HeldMirror(heldSink{w})
	return w
}

// Ready is closed once the watcher holds the stored reports and held
// revisions.
func (w *statusWatcher) Ready() <-chan struct{} { return w.ready }

// Held returns the replicas' held-revision records as published: a PoP's
// config revision is the larger of its report's and theirs (revisionOf).
func (w *statusWatcher) Held() heldRevs {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.held
}

// Reports returns the live reports by PoP and a channel closed when they
// change. The map and reports must not be mutated.
func (w *statusWatcher) Reports() (map[string]*v1.PopStatus, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reportsLocked(), w.changed
}

// reportsLocked returns the published reports, copying them from live if
// not yet copied since the last publish. The copy may hold changes newer
// than the publish; they are published next.
func (w *statusWatcher) reportsLocked() map[string]*v1.PopStatus {
	if !w.copied {
		w.liveMu.Lock()
		w.reports = maps.Clone(w.live)
		w.liveMu.Unlock()
		w.copied = true
	}
	return w.reports
}

// HealthChanged returns a channel closed when the published reports next
// say something else of the services' checks: a PoP's report appears or
// goes, or a check's result (healthy, known) changes. The reports every
// agent sends after a config change (naming its revision) leave it open,
// so that what looks only at the checks (the withdrawal budget's holds)
// is not recomputed for each of them.
func (w *statusWatcher) HealthChanged() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.health
}

// run keeps the reports current until ctx is cancelled.
func (w *statusWatcher) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { w.mirror.Run(ctx) })
	wg.Go(func() { w.heldMirror.Run(ctx) })
	wg.Go(func() {
		if stop, _ := awaitAll(ctx, nil, w.mirror.Ready(), w.heldMirror.Ready()); !stop {
			close(w.ready)
		}
	})
	wg.Wait()
}

// Reset publishes the reports as listed (the mirror's sink), at once: the
// mirror is ready when it returns.
func (w *statusWatcher) Reset(reports map[string]*v1.PopStatus, _ int64) {
	w.liveMu.Lock()
	w.live = reports
	w.healthMoved, w.probesMoved = true, true
	w.liveMu.Unlock()
	w.publish()
}

// Apply takes a change (the mirror's sink) and publishes it within
// publishEvery, with whatever else changes meanwhile.
func (w *statusWatcher) Apply(changes []store.Change[string, *v1.PopStatus], rev int64) {
	w.liveMu.Lock()
	defer w.liveMu.Unlock()
	if !w.flushing {
		w.pendingFrom = rev
	}
	for _, c := range changes {
		prev, had := w.live[c.Key]
		if c.Deleted {
			delete(w.live, c.Key)
			w.healthMoved = w.healthMoved || had
			w.probesMoved = w.probesMoved || had
		} else {
			w.live[c.Key] = c.Value
			w.healthMoved = w.healthMoved || !had || !sameChecks(prev, c.Value)
			w.probesMoved = w.probesMoved || !had || !sameProbes(prev, c.Value)
		}
	}
	if !w.flushing {
		w.flushing = true
		time.AfterFunc(publishEvery, w.publish)
	}
}

// publish publishes the live reports (Reports copies them when asked)
// and the verdicts derived from them.
func (w *statusWatcher) publish() {
	w.publishMu.Lock()
	defer w.publishMu.Unlock()
	w.liveMu.Lock()
	w.flushing = false
	healthMoved, probesMoved := w.healthMoved, w.probesMoved
	w.healthMoved, w.probesMoved = false, false
	held := w.liveHeld
	w.liveMu.Unlock()
	w.mu.Lock()
	w.copied = false
	w.held = held
	var reports map[string]*v1.PopStatus
	if probesMoved {
		reports = w.reportsLocked()
	}
	close(w.changed)
	w.changed = make(chan struct{})
	if healthMoved {
		close(w.health)
		w.health = make(chan struct{})
	}
	w.mu.Unlock()
	if probesMoved {
		// Else the verdicts and RTTs are those of the last publish: the
		// reports after a config change (each naming its revision) do not
		// make a pass over every report.
		w.obs.setHealth(originVerdicts(reports, w.quorum), rttMatrix(reports))
	}
}

// heldRevs are the replicas' held-revision records: by replica, each
// PoP's config revision beyond its stored report (store.HeldRevisions).
// Published records are not modified: a change replaces the map.
type heldRevs map[string]map[string]int64

// of returns the highest revision a record holds for pop, 0 if none does.
func (h heldRevs) of(pop string) int64 {
	var rev int64
	for _, pops := range h {
		rev = max(rev, pops[pop])
	}
	return rev
}

// revisionOf returns st with the config revision pop's agent holds: st
// itself when no record holds a newer one than st's, else a copy with it.
func (h heldRevs) revisionOf(pop string, st *v1.PopStatus) *v1.PopStatus {
	if rev := h.of(pop); rev > st.GetConfigRevision() {
		st = proto.CloneOf(st)
		st.ConfigRevision = rev
	}
	return st
}

// heldSink takes the held-revision mirror's records into the watcher and
// publishes them within publishEvery, with the reports.
type heldSink struct{ w *statusWatcher }

// Reset publishes the records as listed, at once, as Reset of the reports
// does: the mirror is ready when it returns.
func (s heldSink) Reset(recs map[string]map[string]int64, _ int64) {
	s.w.liveMu.Lock()
	s.w.liveHeld = recs
	s.w.liveMu.Unlock()
	s.w.publish()
}

func (s heldSink) Apply(changes []store.Change[string, map[string]int64], _ int64) {
	s.update(func(old heldRevs) heldRevs {
		next := maps.Clone(old)
		if next == nil {
			next = heldRevs{}
		}
		for _, c := range changes {
			if c.Deleted {
				delete(next, c.Key)
			} else {
				next[c.Key] = c.Value
			}
		}
		return next
	})
}

func (s heldSink) update(f func(heldRevs) heldRevs) {
	w := s.w
	w.liveMu.Lock()
	defer w.liveMu.Unlock()
	w.liveHeld = f(w.liveHeld)
	if !w.flushing {
		w.flushing = true
		time.AfterFunc(publishEvery, w.publish)
	}
}

// sameChecks reports whether two reports say the same of their checks:
// the same services in the same order, each as healthy and as known
// (checkHealthy).
func sameChecks(a, b *v1.PopStatus) bool {
	ca, cb := a.GetChecks(), b.GetChecks()
	if len(ca) != len(cb) {
		return false
	}
	for i := range ca {
		if ca[i].GetService() != cb[i].GetService() || ca[i].GetHealthy() != cb[i].GetHealthy() ||
			(ca[i].GetLastResult() == "") != (cb[i].GetLastResult() == "") {
			return false
		}
	}
	return true
}

// sameProbes reports whether two reports say the same of their origin
// probes as originVerdicts and rttMatrix read them: the same origins in the
// same order, each as healthy, with the same RTT at its rounding.
func sameProbes(a, b *v1.PopStatus) bool {
	pa, pb := a.GetOriginProbes(), b.GetOriginProbes()
	if len(pa) != len(pb) {
		return false
	}
	for i := range pa {
		if pa[i].GetOrigin() != pb[i].GetOrigin() || pa[i].GetHealthy() != pb[i].GetHealthy() ||
			(pa[i].GetRtt() == nil) != (pb[i].GetRtt() == nil) ||
			roundRTT(pa[i].GetRtt().AsDuration()) != roundRTT(pb[i].GetRtt().AsDuration()) {
			return false
		}
	}
	return true
}

// published reports whether every change the mirror handed over up to
// revision rev is published (a publish waits publishEvery). A busy
// fleet, whose reports keep a publish scheduled, still settles: the
// changes after rev are in the next publish.
func (w *statusWatcher) published(rev int64) bool {
	w.liveMu.Lock()
	defer w.liveMu.Unlock()
	return !w.flushing || w.pendingFrom > rev
}
