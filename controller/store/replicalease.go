package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// ReplicaLease is the one etcd lease a controller replica holds the keys
// of its agent streams under: each stream's live-agent claim and its PoP's
// report. One lease and one keepalive per replica, not two per agent,
// whatever the number of agents: a replica that vanishes leaves keys that
// expire within the TTL, as per-stream leases would, and a stream that
// ends removes its own keys (the claim at once, the report its TTL
// later). A lease that is lost (its keepalive ended: etcd was unreachable
// for the TTL) takes every key with it; the streams that wrote under it
// are told (Lost) and end, so that their agents reconnect and write again,
// and the next Acquire grants a new lease.
type ReplicaLease struct {
	s   *Store
	ttl time.Duration
	// ctx bounds the keepalives; Close cancels it.
	ctx    context.Context
	cancel context.CancelFunc

	// ack is when a keepalive was last answered (UnixNano).
	ack atomic.Int64

	mu sync.Mutex // guards cur
	// cur is the lease held; nil when none is.
	cur *leaseGen
}

// leaseGen is one granted lease and the channel closed when it is lost.
type leaseGen struct {
	id   clientv3.LeaseID
	lost chan struct{}
}

// ReplicaLease returns a replica lease of TTL ttl (whole seconds, at least
// one); the first Acquire grants it. Close stops its keepalive.
func (s *Store) ReplicaLease(ttl time.Duration) *ReplicaLease {
	ctx, cancel := context.WithCancel(context.Background())
	return &ReplicaLease{s: s, ttl: ttl, ctx: ctx, cancel: cancel}
}

// Acquire returns the lease to write under, granting one (bounded by ctx)
// when none is held, and a channel closed when that lease is lost.
func (l *ReplicaLease) Acquire(ctx context.Context) (clientv3.LeaseID, <-chan struct{}, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur != nil {
		return l.cur.id, l.cur.lost, nil
	}
	if err := l.ctx.Err(); err != nil {
		return 0, nil, fmt.Errorf("replica lease: closed")
	}
	var g *clientv3.LeaseGrantResponse
	err := etcdCall(ctx, ReadTimeout, func(ctx context.Context) (err error) {
		g, err = l.s.cli.Grant(ctx, int64(max(l.ttl/time.Second, 1)))
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("replica lease: %w", err)
	}
	ka, err := l.s.cli.KeepAlive(l.ctx, g.ID)
	if err != nil {
		l.s.revoke(g.ID)
		return 0, nil, fmt.Errorf("replica lease keepalive: %w", err)
	}
	gen := &leaseGen{id: g.ID, lost: make(chan struct{})}
	l.cur = gen
	go func() {
		for range ka {
			l.ack.Store(time.Now().UnixNano())
		}
		l.mu.Lock()
		if l.cur == gen {
			l.cur = nil
		}
		l.mu.Unlock()
		if l.ctx.Err() == nil {
			l.s.log.Warn("the replica's etcd lease was lost: its agents' claims and reports are gone; their streams end and reconnect", "lease", fmt.Sprintf("%x", int64(g.ID)))
		}
		close(gen.lost)
	}()
	return gen.id, gen.lost, nil
}

// LastAck returns when etcd last answered the lease's keepalive (zero if
// it never did): evidence that etcd is reached even when reads are slow.
func (l *ReplicaLease) LastAck() time.Time {
	if n := l.ack.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// TTL is the lease's TTL.
func (l *ReplicaLease) TTL() time.Duration { return l.ttl }

// Close stops the keepalive without revoking the lease: the reports under
// it expire within the TTL, as an agent's would when its stream ended.
func (l *ReplicaLease) Close() { l.cancel() }
