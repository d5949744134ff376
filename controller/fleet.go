package controller

import (
	"context"
	"maps"
	"sync"

	"github.com/anyctl/anyctl/compile"
	"github.com/anyctl/anyctl/controller/store"
)

// fleetState mirrors the fleet state in memory, current with etcd through a
// store mirror, and publishes drain steps and holds to the observer, and
// the holds to the metrics. Drain calls write through it.
type fleetState struct {
	st      *store.Store
	mirror  *store.Mirror[store.FleetKey, store.FleetRecord]
	obs     *observer
	metrics *metrics
	// heldSeries are the services whose held-PoPs series is exported. Only
	// the goroutine running the mirror uses it.
	heldSeries map[string]bool

	mu     sync.Mutex // guards drains, holds, guardRev, rev and changed
	drains map[string]store.DrainRecord
	holds  map[string][]string
	// guardRev is store.DrainGuardKey's mod revision, 0 while it does not
	// exist.
	guardRev int64
	rev      int64         // the etcd revision the mirror is current to
	changed  chan struct{} // closed when rev moves
}

func newFleetState(st *store.Store, obs *observer, m *metrics) *fleetState {
	f := &fleetState{
		st: st, obs: obs, metrics: m, heldSeries: map[string]bool{},
		drains: map[string]store.DrainRecord{}, holds: map[string][]string{}, changed: make(chan struct{}),
	}
	f.mirror = st.FleetMirror(f)
	return f
}

// Ready is closed once the mirror holds the stored drains and holds.
func (f *fleetState) Ready() <-chan struct{} { return f.mirror.Ready() }

// Drains returns a copy of every PoP's drain record.
func (f *fleetState) Drains() map[string]store.DrainRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.drains)
}

// DrainsAndGuard returns a copy of every PoP's drain record and the drain
// guard's mod revision, as of one moment.
func (f *fleetState) DrainsAndGuard() (map[string]store.DrainRecord, int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.drains), f.guardRev
}

// Changed returns a channel closed at the next change of the fleet state.
func (f *fleetState) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

// Holds returns the withdrawal budget's holds, by service.
func (f *fleetState) Holds() map[string][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.holds)
}

// run keeps the mirror current until ctx is cancelled.
func (f *fleetState) run(ctx context.Context) { f.mirror.Run(ctx) }

// Reset replaces the fleet state with the one listed (the mirror's sink).
func (f *fleetState) Reset(recs map[store.FleetKey]store.FleetRecord, rev int64) {
	f.mu.Lock()
	f.drains, f.holds, f.guardRev = map[string]store.DrainRecord{}, map[string][]string{}, 0
	for k, r := range recs {
		f.putLocked(k, r)
	}
	f.advanceLocked(rev)
	f.mu.Unlock()
	f.publish()
}

// Apply applies one transaction's changes (the mirror's sink).
func (f *fleetState) Apply(changes []store.Change[store.FleetKey, store.FleetRecord], rev int64) {
	f.mu.Lock()
	for _, c := range changes {
		if c.Deleted {
			f.deleteLocked(c.Key)
		} else {
			f.putLocked(c.Key, c.Value)
		}
	}
	f.advanceLocked(rev)
	f.mu.Unlock()
	f.publish()
}

// advanceLocked records that the mirror is current to rev.
func (f *fleetState) advanceLocked(rev int64) {
	if rev > f.rev {
		f.rev = rev
		close(f.changed)
		f.changed = make(chan struct{})
	}
}

// WaitRevision waits until the mirror is current to rev, so that a drain
// or undrain call reads its own write.
func (f *fleetState) WaitRevision(ctx context.Context, rev int64) error {
	for {
		f.mu.Lock()
		cur, changed := f.rev, f.changed
		f.mu.Unlock()
		if cur >= rev {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

func (f *fleetState) putLocked(k store.FleetKey, r store.FleetRecord) {
	switch k.Kind {
	case store.FleetDrain:
		f.drains[k.Pop] = r.Drain
	case store.FleetDrainGuard:
		f.guardRev = r.ModRevision
	case store.FleetHolds:
		f.holds = r.Holds
	}
}

func (f *fleetState) deleteLocked(k store.FleetKey) {
	switch k.Kind {
	case store.FleetDrain:
		delete(f.drains, k.Pop)
	case store.FleetDrainGuard:
		f.guardRev = 0
	case store.FleetHolds:
		f.holds = map[string][]string{}
	}
}

func (f *fleetState) publish() {
	f.mu.Lock()
	steps := make(map[string]compile.DrainStep, len(f.drains))
	for pop, r := range f.drains {
		if r.Step != compile.DrainNone {
			steps[pop] = r.Step
		}
	}
	holds := maps.Clone(f.holds)
	f.mu.Unlock()
	f.obs.setDrain(steps)
	f.obs.setHeld(holds)
	f.exportHolds(holds)
}

// exportHolds sets the held-PoPs gauge of every held service and removes
// the series of services no longer held. Every replica exports the holds it
// mirrors, so the gauge is right on a leader that inherited them and on a
// replica that stopped leading.
func (f *fleetState) exportHolds(holds map[string][]string) {
	for svc := range f.heldSeries {
		if _, ok := holds[svc]; !ok {
			f.metrics.held.DeleteLabelValues(svc)
			delete(f.heldSeries, svc)
		}
	}
	for svc, pops := range holds {
		f.metrics.held.WithLabelValues(svc).Set(float64(len(pops)))
		f.heldSeries[svc] = true
	}
}
