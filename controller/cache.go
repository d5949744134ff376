package controller

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/anyctl/anyctl/backoff"
	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// stateCache keeps the whole desired state in memory, current with etcd:
// it lists at a revision, then watches from revision+1, and re-lists after
// compaction or a broken watch. Readers get an immutable *resource.State and
// a channel closed at the next change.
type stateCache struct {
	st  *store.Store
	log *slog.Logger

	mu      sync.Mutex // guards state and changed
	state   *resource.State
	changed chan struct{}

	ready     chan struct{} // closed after the first list
	readyOnce sync.Once
}

func newStateCache(st *store.Store, log *slog.Logger) *stateCache {
	return &stateCache{
		st:      st,
		log:     log,
		state:   resource.NewState(),
		changed: make(chan struct{}),
		ready:   make(chan struct{}),
	}
}

// Current returns the state and a channel closed when it is replaced. The
// state must not be mutated.
func (c *stateCache) Current() (*resource.State, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state, c.changed
}

// Ready is closed once the cache holds the stored state.
func (c *stateCache) Ready() <-chan struct{} { return c.ready }

// WaitRevision waits until the cache holds revision rev or later, so that
// a replica reads its own writes.
func (c *stateCache) WaitRevision(ctx context.Context, rev int64) error {
	for {
		s, changed := c.Current()
		if s.Revision >= rev {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

func (c *stateCache) publish(s *resource.State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = s
	close(c.changed)
	c.changed = make(chan struct{})
}

// run keeps the cache current until ctx is cancelled.
func (c *stateCache) run(ctx context.Context) error {
	bo := backoff.New(100*time.Millisecond, 5*time.Second)
	for {
		err := c.listAndWatch(ctx, bo)
		if ctx.Err() != nil {
			return nil
		}
		c.log.Warn("desired-state watch ended; re-listing", "err", err)
		if !bo.Wait(ctx) {
			return nil
		}
	}
}

// listAndWatch lists the state, then follows it until the watch ends. A
// list that succeeds resets bo, so that the wait before the next re-list
// starts short again.
func (c *stateCache) listAndWatch(ctx context.Context, bo *backoff.Backoff) error {
	s, err := c.st.State(ctx)
	if err != nil {
		return err
	}
	c.publish(s)
	c.readyOnce.Do(func() { close(c.ready) })
	bo.Reset()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next *resource.State
	for ev := range c.st.Watch(wctx, v1.Kind_KIND_UNSPECIFIED, s.Revision+1) {
		if ev.Err != nil {
			return ev.Err
		}
		if next == nil {
			next = s.Clone()
		}
		switch ev.Type {
		case v1.EventType_EVENT_TYPE_PUT:
			next.Put(ev.Object)
		case v1.EventType_EVENT_TYPE_DELETE:
			next.Delete(resource.RefOf(ev.Object))
		}
		if !ev.LastInRevision {
			continue // publish whole transactions only
		}
		next.Revision = ev.Revision
		s, next = next, nil
		c.publish(s)
	}
	return ctx.Err()
}
