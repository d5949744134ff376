package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/anyctl/anyctl/backoff"
	"github.com/anyctl/anyctl/controller/store"
)

// leaderSafetyPass is how long the leader waits, with nothing changed and
// no drain step due, before it runs its jobs anyway. Its jobs run on every
// change of their inputs (the desired state, the reports' check results,
// the fleet state) and when a drain step falls due; this pass is only a
// backstop.
const leaderSafetyPass = time.Minute

// leaderSettle is how long the leader lets a burst of changes gather
// before it runs its jobs on them: agents' reports of one event (a shared
// dependency failing everywhere) arrive within it, and the budget holds
// the PoPs it would hold for the event as a whole, not for the first
// report of it.
const leaderSettle = 100 * time.Millisecond

// leaderRetry is how soon the leader runs its jobs again after a write
// failed (other than by losing the term).
const leaderRetry = time.Second

// leader campaigns for leadership (etcd election) and, while leader, runs
// the fleet-wide jobs: drain sequencing and the withdrawal budget.
type leader struct {
	st      *store.Store
	id      string
	cache   *stateCache
	fleet   *fleetState
	reports *statusWatcher
	metrics *metrics
	log     *slog.Logger
	// leading is set while this replica leads.
	leading *atomic.Bool
	// retention is how much history the leader keeps.
	retention store.Retention
	// pruned is when the history was last pruned; owned by lead.
	pruned time.Time
}

// historyPruneEvery is how often the leader prunes the history.
const historyPruneEvery = 10 * time.Minute

// pruneHistory deletes the history records beyond the retention, at most
// every historyPruneEvery. It returns only store.ErrDeposed.
func (l *leader) pruneHistory(ctx context.Context, tm *store.Term) error {
	if time.Since(l.pruned) < historyPruneEvery {
		return nil
	}
	if err := l.st.StartHistory(ctx); err != nil {
		l.log.Warn("setting where history starts", "err", err)
		return nil
	}
	n, err := tm.PruneHistory(ctx, l.retention, time.Now())
	if errors.Is(err, store.ErrDeposed) {
		return err
	}
	if err != nil {
		if ctx.Err() == nil {
			l.log.Warn("pruning history", "err", err)
		}
		return nil
	}
	l.pruned = time.Now()
	if n > 0 {
		l.log.Info("history pruned", "deleted", n, "max_entries", l.retention.Count, "max_age", l.retention.Age)
	}
	return nil
}

// run campaigns, and leads while elected, until ctx is cancelled. It
// campaigns only once this replica holds the stored state: a leader working
// from an empty desired state would see no PoPs and delete every drain
// record, and from empty reports would release every hold.
func (l *leader) run(ctx context.Context) {
	if stop, _ := awaitAll(ctx, nil, l.cache.Ready(), l.reports.Ready(), l.fleet.Ready()); stop {
		return
	}
	bo := backoff.New(200*time.Millisecond, 5*time.Second)
	for ctx.Err() == nil {
		err := l.campaign(ctx)
		if ctx.Err() != nil {
			return
		}
		l.log.Warn("leadership lost; campaigning again", "err", err)
		if !bo.Wait(ctx) {
			return
		}
	}
}

func (l *leader) campaign(ctx context.Context) error {
	// The term outlives ctx until Close revokes its lease, which hands
	// the leadership over at once.
	tm, err := l.st.Campaign(ctx, l.id)
	if err != nil {
		return err
	}
	defer tm.Close()
	l.log.Info("leading the fleet jobs", "replica", l.id)
	l.metrics.leader.Set(1)
	defer l.metrics.leader.Set(0)
	l.leading.Store(true)
	defer l.leading.Store(false)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-tm.Done():
			cancel()
		case <-lctx.Done():
		}
	}()
	err = l.lead(lctx, tm)
	select {
	case <-tm.Done():
		// The lease ended (etcd unreachable for its TTL, or revoked):
		// another replica may lead now. Say so at once; revoking the
		// lease on Close below can take as long again.
		l.log.Warn("stopped leading the fleet jobs: the election lease ended", "replica", l.id)
	default:
	}
	if err != nil {
		return err
	}
	return lctx.Err()
}

// lead runs the fleet jobs whenever their inputs change or a drain step
// falls due, until ctx ends or a write finds the term over. Idle, it waits:
// nothing is recomputed while nothing changes.
func (l *leader) lead(ctx context.Context, tm *store.Term) error {
	timer := time.NewTimer(leaderSafetyPass)
	defer timer.Stop()
	for {
		// Taken before the pass, so that a change during it runs another.
		_, stateChanged := l.cache.Current()
		// The holds look only at the checks' results in the reports.
		reportsChanged := l.reports.HealthChanged()
		fleetChanged := l.fleet.Changed()
		retry, err := l.advanceDrains(ctx, tm)
		if err != nil {
			return err
		}
		held, err := l.updateHolds(ctx, tm)
		if err != nil {
			return err
		}
		if err := l.pruneHistory(ctx, tm); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		wait := leaderSafetyPass
		if due, ok := l.nextDrainDue(); ok {
			wait = min(wait, time.Until(due))
		}
		if retry || !held {
			wait = min(wait, leaderRetry)
		}
		timer.Reset(max(wait, 0))
		changed := true
		select {
		case <-ctx.Done():
			return nil
		case <-stateChanged:
		case <-reportsChanged:
		case <-fleetChanged:
		case <-timer.C:
			changed = false
		}
		if changed {
			timer.Reset(leaderSettle)
			select {
			case <-ctx.Done():
				return nil
			case <-timer.C:
			}
		}
	}
}

// nextDrainDue returns when the earliest drain step falls due.
func (l *leader) nextDrainDue() (time.Time, bool) {
	var next time.Time
	var any bool
	for _, r := range l.fleet.Drains() {
		if due, ok := drainDue(r); ok && (!any || due.Before(next)) {
			next, any = due, true
		}
	}
	return next, any
}

// advanceDrains moves every drain whose step has run its course. It
// returns only store.ErrDeposed; other failures are logged and reported
// as retry, to be tried again soon.
func (l *leader) advanceDrains(ctx context.Context, tm *store.Term) (retry bool, _ error) {
	s, _ := l.cache.Current()
	now := time.Now()
	for pop, r := range l.fleet.Drains() {
		var err error
		var deleted bool
		if _, ok := s.Pops[pop]; !ok {
			if deleted, err = l.deleteDrain(ctx, tm, pop, r); deleted {
				l.log.Info("drain record of a PoP no longer in the desired state removed", "pop", pop)
			}
		} else {
			next, changed, done := nextDrainStep(r, now)
			switch {
			case done:
				if deleted, err = l.deleteDrain(ctx, tm, pop, r); deleted {
					l.log.Info("undrain complete: PoP back in service", "pop", pop)
				}
			case changed:
				if err = l.putDrain(ctx, tm, pop, next); err == nil {
					l.log.Info("drain step", "pop", pop, "step", next.Step.String(), "draining", next.Draining)
				}
			}
		}
		if errors.Is(err, store.ErrDeposed) {
			return false, err
		}
		if err != nil && ctx.Err() == nil {
			l.log.Warn("advancing drain", "pop", pop, "err", err)
			retry = true
		}
	}
	return retry, nil
}

// putDrain stores the next step of a PoP's drain, guarded by the term and
// by the record being unchanged since it was read, and waits until the
// mirror holds it.
func (l *leader) putDrain(ctx context.Context, tm *store.Term, pop string, r store.DrainRecord) error {
	w, err := store.NewDrainWrite(pop, r, true)
	if err != nil {
		return err
	}
	ok, rev, err := tm.PutDrain(ctx, w)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("drain state of Pop %q changed meanwhile", pop)
	}
	return l.fleet.WaitRevision(ctx, rev)
}

// deleteDrain removes a finished undrain's record, guarded like putDrain.
// It reports whether it deleted: a record changed since it was read stays,
// to be looked at again next tick.
func (l *leader) deleteDrain(ctx context.Context, tm *store.Term, pop string, r store.DrainRecord) (bool, error) {
	return tm.DeleteDrain(ctx, pop, r.ModRevision)
}

// updateHolds recomputes the withdrawal budget's holds and stores them,
// guarded by the term, when they change. It returns only store.ErrDeposed;
// ok is false when the holds could not be stored, to be tried again soon.
func (l *leader) updateHolds(ctx context.Context, tm *store.Term) (ok bool, _ error) {
	s, _ := l.cache.Current()
	reports, _ := l.reports.Reports()
	prev := l.fleet.Holds()
	holds, err := computeHolds(ctx, s, reports, l.fleet.Drains(), prev)
	if err != nil {
		return true, nil // ctx ended
	}
	if reflect.DeepEqual(holds, prev) || (len(holds) == 0 && len(prev) == 0) {
		return true, nil
	}
	if err := tm.PutHolds(ctx, holds); err != nil {
		if errors.Is(err, store.ErrDeposed) {
			return false, err
		}
		if ctx.Err() == nil {
			l.log.Warn("storing withdrawal budget holds", "err", err)
		}
		return false, nil
	}
	for svc, pops := range holds {
		l.log.Warn("withdrawal budget holds announcements despite failing health", "service", svc, "pops", pops)
	}
	for svc := range prev {
		if _, ok := holds[svc]; !ok {
			l.log.Info("withdrawal budget hold released", "service", svc)
		}
	}
	return true, nil
}
