package controller

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
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
	// requested is when a progress request was last sent (UnixNano).
	requested atomic.Int64

	mu sync.Mutex // guards started, last, failed and changed
	// started is when run started; zero before.
	started time.Time
	// failed is why the last confirmation to finish failed; nil after
	// one that succeeded.
	failed error
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

// maxConfirmsInFlight bounds the confirmations a replica makes at once:
// a new one starts every interval, and one through a slow etcd takes
// longer.
const maxConfirmsInFlight = 4

// confirmed is one confirmation's outcome, and how long it took.
type confirmed struct {
	c    confirmation
	err  error
	took time.Duration
}

// run starts a confirmation every interval until ctx ends. Each may take
// up to its bound (confirm), so that an etcd slower than the interval,
// but answering, still gives confirmations (as of when their reads
// began): they overlap, and the newest made is the one held.
func (f *freshness) run(ctx context.Context) {
	f.mu.Lock()
	f.started = time.Now()
	f.mu.Unlock()
	t := time.NewTicker(f.every)
	defer t.Stop()
	results := make(chan confirmed)
	inFlight := 0
	start := func() {
		inFlight++
		go func() {
			at := time.Now()
			c, err := f.confirm(ctx)
			select {
			case results <- confirmed{c, err, time.Since(at)}:
			case <-ctx.Done():
			}
		}()
	}
	start()
	failing, slow := false, false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if inFlight < maxConfirmsInFlight {
				start()
			}
		case r := <-results:
			inFlight--
			f.mu.Lock()
			f.failed = r.err
			f.mu.Unlock()
			switch {
			case r.err != nil && !failing:
				failing = true
				f.log.Warn("cannot confirm that this replica's state is current; its DNS servers and agents move to another replica if it stays so", "err", r.err)
			case r.err == nil:
				if failing {
					failing = false
					f.log.Info("this replica's state is confirmed current again", "revision", r.c.rev)
				}
				if r.took > f.every && !slow {
					slow = true
					f.log.Warn("etcd is slow: confirming this replica's state current took longer than --feed-confirm-every; its streams are confirmed late", "took", r.took.Round(time.Millisecond), "feed_confirm_every", f.every)
				} else if r.took <= f.every && slow {
					slow = false
					f.log.Info("confirming this replica's state current takes less than --feed-confirm-every again", "took", r.took.Round(time.Millisecond))
				}
				f.publish(r.c)
			}
		}
	}
}

// confirmBound bounds one confirmation: three intervals (a DNS server or
// agent waits at least that long for one), and no less than a read and a
// progress notification that each take as long as a prompt etcd may.
func confirmBound(every time.Duration) time.Duration {
	return max(3*every, 2*etcdPromptRead)
}

// confirm makes one confirmation within confirmBound.
func (f *freshness) confirm(ctx context.Context) (confirmation, error) {
	bound := confirmBound(f.every)
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	at := time.Now()
	rev, err := f.st.Revision(ctx, bound)
	if err != nil {
		return confirmation{}, fmt.Errorf("reading etcd's revision: %w", err)
	}
	read := time.Now()
	poll := time.NewTicker(freshnessPoll)
	defer poll.Stop()
	for {
		behind := f.behind(rev)
		if behind < 0 {
			return confirmation{at: at, rev: rev}, nil
		}
		if behind > 0 && f.requestDue(read) {
			// The mirrors' watches hear of a revision only through
			// their keys' writes, or a progress notification.
			if err := f.st.RequestProgress(ctx); err != nil && ctx.Err() == nil {
				return confirmation{}, fmt.Errorf("requesting watch progress: %w", err)
			}
		}
		select {
		case <-ctx.Done():
			return confirmation{}, fmt.Errorf("the state did not reach etcd's revision %d within %s: %d of %d watches behind, or their changes not yet published", rev, bound, max(behind, 0), len(f.synced))
		case <-poll.C:
		}
	}
}

// requestDue reports whether a confirmation whose read returned at read
// should send a progress request, and if so takes the turn: not when one
// was sent since the read (its notification carries a revision at least
// the read's), less than freshnessRequestEvery ago, by a confirmation
// under way beside it.
func (f *freshness) requestDue(read time.Time) bool {
	now := time.Now().UnixNano()
	last := f.requested.Load()
	if last >= read.UnixNano() && now-last < int64(freshnessRequestEvery) {
		return false
	}
	return f.requested.CompareAndSwap(last, now)
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
// three intervals, when its DNS servers start leaving it, and why: the
// last failure, or, when every confirmation in progress is still waiting
// on etcd, nil; 0 otherwise, and for a nil freshness.
func (f *freshness) unconfirmed(now time.Time) (time.Duration, error) {
	if f == nil {
		return 0, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	from := f.last.at
	if from.IsZero() {
		from = f.started
	}
	if from.IsZero() {
		return 0, nil
	}
	if d := now.Sub(from); d > 3*f.every {
		return d, f.failed
	}
	return 0, nil
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
