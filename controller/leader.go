package controller

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"time"

	"github.com/anyctl/anyctl/backoff"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// electionPrefix is where replicas campaign for leadership.
const electionPrefix = "/anyctl/v1/leader"

// leaderTick is how often the leader advances drains and the budget.
const leaderTick = 100 * time.Millisecond

// leader campaigns for leadership (etcd election) and, while leader, runs
// the fleet-wide jobs: drain sequencing and the withdrawal budget.
type leader struct {
	cli     *clientv3.Client
	id      string
	cache   *stateCache
	fleet   *fleetState
	reports *statusWatcher
	metrics *metrics
	log     *slog.Logger
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
	// The session outlives ctx by the moment Close needs to revoke its
	// lease, so that a stopping leader hands over at once.
	sctx, scancel := context.WithCancel(context.WithoutCancel(ctx))
	defer scancel()
	sess, err := concurrency.NewSession(l.cli, concurrency.WithTTL(5), concurrency.WithContext(sctx))
	if err != nil {
		return err
	}
	defer sess.Close()
	el := concurrency.NewElection(sess, electionPrefix)
	if err := el.Campaign(ctx, l.id); err != nil {
		return err
	}
	l.log.Info("leading the fleet jobs", "replica", l.id)
	l.metrics.leader.Set(1)
	defer l.metrics.leader.Set(0)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-sess.Done():
			cancel()
		case <-lctx.Done():
		}
	}()
	l.lead(lctx)
	if ctx.Err() != nil {
		rctx, rcancel := context.WithTimeout(context.Background(), time.Second)
		_ = el.Resign(rctx)
		rcancel()
	}
	return lctx.Err()
}

func (l *leader) lead(ctx context.Context) {
	t := time.NewTicker(leaderTick)
	defer t.Stop()
	for {
		l.advanceDrains(ctx)
		l.updateHolds(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// advanceDrains moves every drain whose step has run its course.
func (l *leader) advanceDrains(ctx context.Context) {
	s, _ := l.cache.Current()
	now := time.Now()
	for pop, r := range l.fleet.Drains() {
		if _, ok := s.Pops[pop]; !ok {
			_ = l.fleet.deleteDrain(ctx, pop, r)
			continue
		}
		next, changed, done := nextDrainStep(r, now)
		var err error
		switch {
		case done:
			err = l.fleet.deleteDrain(ctx, pop, r)
			l.log.Info("undrain complete: PoP back in service", "pop", pop)
		case changed:
			err = l.fleet.putDrain(ctx, pop, next, true)
			l.log.Info("drain step", "pop", pop, "step", next.Step.String(), "draining", next.Draining)
		}
		if err != nil && ctx.Err() == nil {
			l.log.Warn("advancing drain", "pop", pop, "err", err)
		}
	}
}

// updateHolds recomputes the withdrawal budget's holds and stores them
// when they change.
func (l *leader) updateHolds(ctx context.Context) {
	s, _ := l.cache.Current()
	reports, _ := l.reports.Reports()
	prev := l.fleet.Holds()
	holds := computeHolds(s, reports, l.fleet.Drains(), prev)
	if reflect.DeepEqual(holds, prev) || (len(holds) == 0 && len(prev) == 0) {
		return
	}
	b, err := json.Marshal(holds)
	if err != nil {
		return
	}
	if _, err := l.cli.Put(ctx, holdsKey, string(b)); err != nil {
		l.log.Warn("storing withdrawal budget holds", "err", err)
		return
	}
	for svc, pops := range holds {
		l.log.Warn("withdrawal budget holds announcements despite failing health", "service", svc, "pops", pops)
	}
	for svc := range prev {
		if _, ok := holds[svc]; !ok {
			l.log.Info("withdrawal budget hold released", "service", svc)
		}
	}
	for svc := range prev {
		l.metrics.held.WithLabelValues(svc).Set(0)
	}
	for svc, pops := range holds {
		l.metrics.held.WithLabelValues(svc).Set(float64(len(pops)))
	}
}
