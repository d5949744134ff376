package controller

import (
	"context"
	"maps"
	"sync"

	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// statusWatcher keeps the PoPs' live reports in memory, current with etcd
// through a store mirror, and derives the fleet's origin health and RTT
// matrix from them. Every replica computes the same verdicts from the same
// reports.
type statusWatcher struct {
	mirror *store.Mirror[string, *v1.PopStatus]
	obs    *observer
	quorum float64
	// live are the reports as the mirror last saw them; only the goroutine
	// running the mirror uses them.
	live map[string]*v1.PopStatus

	mu      sync.Mutex // guards reports and changed
	reports map[string]*v1.PopStatus
	changed chan struct{}
}

func newStatusWatcher(st *store.Store, obs *observer, quorum float64) *statusWatcher {
	w := &statusWatcher{obs: obs, quorum: quorum, reports: map[string]*v1.PopStatus{}, changed: make(chan struct{})}
	w.mirror = st.StatusMirror(w)
	return w
}

// Ready is closed once the watcher holds the stored reports.
func (w *statusWatcher) Ready() <-chan struct{} { return w.mirror.Ready() }

// Reports returns the live reports by PoP and a channel closed when they
// change. The map and reports must not be mutated.
func (w *statusWatcher) Reports() (map[string]*v1.PopStatus, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reports, w.changed
}

// run keeps the reports current until ctx is cancelled.
func (w *statusWatcher) run(ctx context.Context) { w.mirror.Run(ctx) }

// Reset publishes the reports as listed (the mirror's sink).
func (w *statusWatcher) Reset(reports map[string]*v1.PopStatus, _ int64) {
	w.live = reports
	w.publish()
}

// Apply publishes the reports after a change (the mirror's sink).
func (w *statusWatcher) Apply(changes []store.Change[string, *v1.PopStatus], _ int64) {
	for _, c := range changes {
		if c.Deleted {
			delete(w.live, c.Key)
		} else {
			w.live[c.Key] = c.Value
		}
	}
	w.publish()
}

func (w *statusWatcher) publish() {
	w.mu.Lock()
	w.reports = maps.Clone(w.live)
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
	w.obs.setHealth(originVerdicts(w.live, w.quorum), rttMatrix(w.live))
}
