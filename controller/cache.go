package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// stateCache keeps the whole desired state in memory, current with etcd
// through a store mirror, and publishes whole transactions only. Readers
// get an immutable *resource.State and a channel closed at the next change.
type stateCache struct {
	st     *store.Store
	mirror *store.Mirror[resource.Ref, *v1.Object]

	mu      sync.Mutex // guards state and changed
	state   *resource.State
	changed chan struct{}
}

func newStateCache(st *store.Store) *stateCache {
	c := &stateCache{st: st, state: resource.NewState(), changed: make(chan struct{})}
	c.mirror = st.DesiredMirror(c)
	return c
}

// Current returns the state and a channel closed when it is replaced. The
// state must not be mutated.
func (c *stateCache) Current() (*resource.State, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state, c.changed
}

// Ready is closed once the cache holds the stored state.
func (c *stateCache) Ready() <-chan struct{} { return c.mirror.Ready() }

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

// catchUpWait bounds how long CatchUp waits for the cache to take in the
// desired-state writes it is missing.
const catchUpWait = 10 * time.Second

// CatchUp waits until the cache holds every desired-state write a client
// may have been sent by another replica: the client holds revision held,
// and when that is newer than the cache, the cache must reach the last
// desired-state write in etcd before the client is sent anything, or the
// client would go back to an older state. A held revision with no write
// between the cache's and it (another replica listed at a later revision,
// or another cluster's revision) needs no wait. It fails when etcd cannot
// say, or the cache does not catch up within catchUpWait.
func (c *stateCache) CatchUp(ctx context.Context, held int64) error {
	cur, _ := c.Current()
	if held <= cur.Revision {
		return nil
	}
	last, err := c.st.LastDesiredWrite(ctx)
	if err != nil {
		return err
	}
	if last <= cur.Revision {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, catchUpWait)
	defer cancel()
	if err := c.WaitRevision(wctx, last); err != nil && ctx.Err() == nil {
		now, _ := c.Current()
		return fmt.Errorf("this replica's desired state is at revision %d, behind the last write at revision %d, after %s", now.Revision, last, catchUpWait)
	}
	return ctx.Err()
}

// run keeps the cache current until ctx is cancelled.
func (c *stateCache) run(ctx context.Context) { c.mirror.Run(ctx) }

// Reset publishes the state as listed (the mirror's sink).
func (c *stateCache) Reset(objs map[resource.Ref]*v1.Object, rev int64) {
	s := resource.NewState()
	for _, o := range objs {
		s.Put(o)
	}
	s.Revision = rev
	c.publish(s)
}

// Apply publishes the state after one transaction (the mirror's sink).
func (c *stateCache) Apply(changes []store.Change[resource.Ref, *v1.Object], rev int64) {
	cur, _ := c.Current()
	next := cur.Clone()
	for _, ch := range changes {
		if ch.Deleted {
			next.Delete(ch.Key)
		} else {
			next.Put(ch.Value)
		}
	}
	next.Revision = rev
	c.publish(next)
}

func (c *stateCache) publish(s *resource.State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = s
	close(c.changed)
	c.changed = make(chan struct{})
}
