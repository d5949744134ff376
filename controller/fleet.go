package controller

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/anyctl/anyctl/backoff"
	"github.com/anyctl/anyctl/compile"
	"github.com/anyctl/anyctl/controller/store"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// fleetState mirrors the fleet prefix in memory (list, then watch) and
// publishes drain steps and holds to the observer, and the holds to the
// metrics.
type fleetState struct {
	st      *store.Store
	cli     *clientv3.Client
	obs     *observer
	metrics *metrics
	log     *slog.Logger
	// heldSeries are the services whose held-PoPs series is exported. Only
	// the goroutine running run uses it.
	heldSeries map[string]bool

	mu     sync.Mutex // guards drains, holds, guardRev, rev and changed
	drains map[string]store.DrainRecord
	holds  map[string][]string
	// guardRev is store.DrainGuardKey's mod revision, 0 while it does not exist.
	guardRev int64
	rev      int64         // the etcd revision the mirror is current to
	changed  chan struct{} // closed when rev moves

	ready     chan struct{} // closed after the first list
	readyOnce sync.Once
}

func newFleetState(st *store.Store, cli *clientv3.Client, obs *observer, m *metrics, log *slog.Logger) *fleetState {
	return &fleetState{
		st: st, cli: cli, obs: obs, metrics: m, log: log, heldSeries: map[string]bool{},
		drains: map[string]store.DrainRecord{}, holds: map[string][]string{}, changed: make(chan struct{}), ready: make(chan struct{}),
	}
}

// Ready is closed once the mirror holds the stored drains and holds.
func (f *fleetState) Ready() <-chan struct{} { return f.ready }

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

// Holds returns the withdrawal budget's holds, by service.
func (f *fleetState) Holds() map[string][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.holds)
}

func (f *fleetState) run(ctx context.Context) {
	bo := backoff.New(100*time.Millisecond, 5*time.Second)
	for {
		err := f.listAndWatch(ctx, bo)
		if ctx.Err() != nil {
			return
		}
		f.log.Warn("fleet state watch ended; re-listing", "err", err)
		if !bo.Wait(ctx) {
			return
		}
	}
}

func (f *fleetState) listAndWatch(ctx context.Context, bo *backoff.Backoff) error {
	resp, err := f.cli.Get(ctx, store.FleetPrefix, clientv3.WithPrefix())
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.drains, f.holds, f.guardRev = map[string]store.DrainRecord{}, map[string][]string{}, 0
	for _, kv := range resp.Kvs {
		f.applyLocked(mvccpb.PUT, kv)
	}
	f.advanceLocked(resp.Header.Revision)
	f.mu.Unlock()
	f.publish()
	f.readyOnce.Do(func() { close(f.ready) })
	bo.Reset()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for wr := range f.cli.Watch(clientv3.WithRequireLeader(wctx), store.FleetPrefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1)) {
		if err := wr.Err(); err != nil {
			return err
		}
		f.mu.Lock()
		for _, ev := range wr.Events {
			f.applyLocked(ev.Type, ev.Kv)
		}
		f.advanceLocked(wr.Header.Revision)
		f.mu.Unlock()
		f.publish()
	}
	return ctx.Err()
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

func (f *fleetState) applyLocked(typ mvccpb.Event_EventType, kv *mvccpb.KeyValue) {
	key := string(kv.Key)
	switch {
	case strings.HasPrefix(key, store.DrainPrefix):
		pop := key[len(store.DrainPrefix):]
		if typ == mvccpb.DELETE {
			delete(f.drains, pop)
			return
		}
		var r store.DrainRecord
		if err := json.Unmarshal(kv.Value, &r); err != nil {
			f.log.Warn("skipping unreadable drain record", "key", key, "err", err)
			return
		}
		r.ModRevision = kv.ModRevision
		f.drains[pop] = r
	case key == store.DrainGuardKey:
		f.guardRev = 0
		if typ != mvccpb.DELETE {
			f.guardRev = kv.ModRevision
		}
	case key == store.HoldsKey:
		f.holds = map[string][]string{}
		if typ == mvccpb.DELETE {
			return
		}
		if err := json.Unmarshal(kv.Value, &f.holds); err != nil {
			f.log.Warn("skipping unreadable budget holds", "err", err)
		}
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
