package controller

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// DefaultFeedConfirmEvery is how often a replica confirms to its DNS
// servers that what it sent them is current.
const DefaultFeedConfirmEvery = 5 * time.Second

// freshnessPoll is how often a confirmation in progress looks whether
// the mirrors have caught up; freshnessRequestEvery, how often it asks
// etcd again for progress (etcd answers a request only when every watch
// on the stream is caught up, and not at all otherwise).
const (
	freshnessPoll         = 10 * time.Millisecond
	freshnessRequestEvery = 250 * time.Millisecond
)

// confirmation says that the replica's state, as it compiles it into
// snapshots, held every write etcd had committed at a time.
type confirmation struct {
	// at is the time the linearizable read started: every write
	// committed before it is in the state.
	at  time.Time
	rev int64
}

// freshness confirms, every interval, that the replica's view of etcd is
// current: a linearizable read gives etcd's revision, and the confirmation
// stands once every mirror the snapshot is compiled from has seen that
// revision (its watch's progress) and published what it saw. A replica
// cut off from the etcd quorum fails the read; one whose watch stalled
// never sees the revision; one whose reports are not published does not
// settle: none of them confirms, though their streams stay open. The feed
// streams send each confirmation to their DNS servers (FeedFreshness),
// which move to another replica when they go without one for long.
type freshness struct {
	st    *store.Store
	every time.Duration
	// synced are the revisions the snapshot's mirrors have seen.
	synced []func() int64
	// published reports whether every change up to a revision that the
	// mirrors handed over is published (nil: all are, at once).
	published func(rev int64) bool
	log       *slog.Logger

	mu sync.Mutex // guards started, last and changed
	// started is when run started; zero before.
	started time.Time
	// last is the newest confirmation; zero before the first.
	last confirmation
	// changed is closed when last moves, and replaced.
	changed chan struct{}
}

func newFreshness(st *store.Store, every time.Duration, log *slog.Logger, published func(rev int64) bool, synced ...func() int64) *freshness {
	return &freshness{st: st, every: every, synced: synced, published: published, log: log, changed: make(chan struct{})}
}

// Current returns the newest confirmation (zero before the first) and a
// channel closed when a newer one is made. A nil freshness never confirms.
func (f *freshness) Current() (confirmation, <-chan struct{}) {
	if f == nil {
		return confirmation{}, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last, f.changed
}

// run confirms every interval until ctx ends.
func (f *freshness) run(ctx context.Context) {
	f.mu.Lock()
	f.started = time.Now()
	f.mu.Unlock()
	t := time.NewTicker(f.every)
	defer t.Stop()
	failing := false
	for {
		c, err := f.confirm(ctx)
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && !failing:
			failing = true
			f.log.Warn("cannot confirm that this replica's state is current; its DNS servers move to another replica if it stays so", "err", err)
		case err == nil:
			if failing {
				failing = false
				f.log.Info("this replica's state is confirmed current again", "revision", c.rev)
			}
			f.publish(c)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// confirm makes one confirmation within the interval, or the bound of
// etcd's probes when longer (a short interval must not make a distant
// etcd look lost).
func (f *freshness) confirm(ctx context.Context) (confirmation, error) {
	bound := max(f.every, etcdProbeTimeout)
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	at := time.Now()
	rev, err := f.st.Revision(ctx, bound)
	if err != nil {
		return confirmation{}, err
	}
	poll := time.NewTicker(freshnessPoll)
	defer poll.Stop()
	var requested time.Time
	for {
		behind := f.behind(rev)
		if behind < 0 {
			return confirmation{at: at, rev: rev}, nil
		}
		if behind > 0 && time.Since(requested) >= freshnessRequestEvery {
			// The mirrors' watches hear of a revision only through
			// their keys' writes, or a progress notification.
			if err := f.st.RequestProgress(ctx); err != nil && ctx.Err() == nil {
				return confirmation{}, fmt.Errorf("requesting watch progress: %w", err)
			}
			requested = time.Now()
		}
		select {
		case <-ctx.Done():
			return confirmation{}, fmt.Errorf("the state did not reach etcd's revision %d within %s: %d of %d watches behind, or their changes not yet published", rev, bound, max(behind, 0), len(f.synced))
		case <-poll.C:
		}
	}
}

// behind returns how many mirrors have not seen rev; 0 when they have
// but a change is not yet published; -1 when the state is current as of
// rev.
func (f *freshness) behind(rev int64) int {
	n := 0
	for _, s := range f.synced {
		if s() < rev {
			n++
		}
	}
	if n == 0 && f.published != nil && !f.published(rev) {
		return 0
	}
	if n == 0 {
		return -1
	}
	return n
}

func (f *freshness) publish(c confirmation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !c.at.After(f.last.at) {
		return
	}
	f.last = c
	close(f.changed)
	f.changed = make(chan struct{})
}

// proto renders a confirmation for a feed stream, as of now.
func (f *freshness) proto(c confirmation) *v1.FeedFreshness {
	p := &v1.FeedFreshness{Interval: durationpb.New(f.every)}
	if !c.at.IsZero() {
		p.Confirmed = true
		p.ConfirmedAt = timestamppb.New(c.at)
		p.Age = durationpb.New(time.Since(c.at))
		p.Revision = c.rev
	}
	return p
}

// unconfirmed returns how long the replica has gone without confirming
// (since it started, before the first confirmation) when that is over
// three intervals, when its DNS servers start leaving it; 0 otherwise,
// and for a nil freshness.
func (f *freshness) unconfirmed(now time.Time) time.Duration {
	if f == nil {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	from := f.last.at
	if from.IsZero() {
		from = f.started
	}
	if from.IsZero() {
		return 0
	}
	if d := now.Sub(from); d > 3*f.every {
		return d
	}
	return 0
}

// age is how old the newest confirmation is (since run started, before
// the first; 0 before run), for anyctl_controller_state_confirmed_age_seconds.
func (f *freshness) age() float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	from := f.last.at
	if from.IsZero() {
		from = f.started
	}
	if from.IsZero() {
		return 0
	}
	return time.Since(from).Seconds()
}
