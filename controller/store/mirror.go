package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anyctl/anyctl/backoff"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Mirror keeps the keys under one prefix in memory, current with etcd, as
// decoded keys and values handed to a Sink. It lists the prefix at a
// revision, then watches from that revision+1; when the watch ends (etcd
// compacted the revision, ended the watch or lost its leader, or a value
// could not be read) it lists again, after a jittered wait that starts
// short again after every list that succeeds. The Store's DesiredMirror,
// StatusMirror and FleetMirror make one.
type Mirror[K comparable, V any] struct {
	s     *Store
	codec codec[K, V]
	sink  Sink[K, V]

	ready     chan struct{} // closed after the first list
	readyOnce sync.Once

	// synced is the etcd revision up to which the sink has been handed
	// everything (0 before the first list).
	synced atomic.Int64
}

// Sink receives what a Mirror sees, on the goroutine running the mirror.
type Sink[K comparable, V any] interface {
	// Reset replaces everything with the entries listed at revision rev
	// (for a codec with a revKey, that key's mod revision). The map is the
	// sink's to keep.
	Reset(entries map[K]V, rev int64)
	// Apply applies the changes of revision rev, in etcd's order: one
	// whole transaction, never part of one.
	Apply(changes []Change[K, V], rev int64)
}

// Change is one key's change.
type Change[K comparable, V any] struct {
	Key K
	// Deleted is set when the key was deleted; Value is then the zero V.
	Deleted bool
	Value   V
}

// codec reads the keys and values under one prefix.
type codec[K comparable, V any] struct {
	// name names the mirror in logs.
	name   string
	prefix string
	// key parses a key, for deletions.
	key func(key string) (K, error)
	// decode reads a key and its value.
	decode func(kv *mvccpb.KeyValue) (K, V, error)
	// skip makes an unreadable key or value a warning that leaves the key
	// as it was (absent from a list). Without it, the list or the watch
	// fails, and the mirror lists again.
	skip bool
	// revKey, when set, is a key outside the prefix that every write of
	// the prefix moves (GuardKey): a list is read with it, and handed to
	// the sink at its mod revision, the last write's, rather than at the
	// revision read (which other keys' writes move too). So every list
	// of one state has one revision, however late it is made, as every
	// watcher of it has. Without the key stored, the revision read.
	revKey string
}

func newMirror[K comparable, V any](s *Store, c codec[K, V], sink Sink[K, V]) *Mirror[K, V] {
	return &Mirror[K, V]{s: s, codec: c, sink: sink, ready: make(chan struct{})}
}

// Ready is closed once the sink holds the first list.
func (m *Mirror[K, V]) Ready() <-chan struct{} { return m.ready }

// Run keeps the sink current until ctx is done.
func (m *Mirror[K, V]) Run(ctx context.Context) {
	bo := backoff.New(100*time.Millisecond, 5*time.Second)
	for {
		err := m.listAndWatch(ctx, bo)
		if ctx.Err() != nil {
			return
		}
		m.s.log.Warn(m.codec.name+" watch ended; re-listing", "err", err)
		if !bo.Wait(ctx) {
			return
		}
	}
}

// listAndWatch lists the prefix, then follows it until the watch ends. A
// list that succeeds resets bo, so that the wait before the next list
// starts short again.
func (m *Mirror[K, V]) listAndWatch(ctx context.Context, bo *backoff.Backoff) error {
	ops := []clientv3.Op{clientv3.OpGet(m.codec.prefix, clientv3.WithPrefix())}
	if m.codec.revKey != "" {
		ops = append(ops, clientv3.OpGet(m.codec.revKey))
	}
	resp, err := m.s.cli.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		return fmt.Errorf("list %s: %w", m.codec.prefix, err)
	}
	kvs := resp.Responses[0].GetResponseRange().GetKvs()
	rev := resp.Header.Revision
	if len(ops) > 1 {
		if g := resp.Responses[1].GetResponseRange().GetKvs(); len(g) > 0 {
			rev = g[0].ModRevision
		}
	}
	entries := make(map[K]V, len(kvs))
	for _, kv := range kvs {
		k, v, err := m.codec.decode(kv)
		if err != nil {
			if m.skipped(kv.Key, err) {
				continue
			}
			return err
		}
		entries[k] = v
	}
	m.sink.Reset(entries, rev)
	m.readyOnce.Do(func() { close(m.ready) })
	m.progressed(resp.Header.Revision)
	bo.Reset()
	return m.s.watchPrefix(mirrorStream(ctx), m.codec.prefix, resp.Header.Revision+1, false, m.progressed, func(evs []*clientv3.Event) (bool, error) {
		changes := make([]Change[K, V], 0, len(evs))
		for _, ev := range evs {
			c, err := m.change(ev)
			if err != nil {
				if m.skipped(ev.Kv.Key, err) {
					continue
				}
				return false, err
			}
			changes = append(changes, c)
		}
		m.sink.Apply(changes, evs[0].Kv.ModRevision)
		return true, nil
	})
}

func (m *Mirror[K, V]) change(ev *clientv3.Event) (Change[K, V], error) {
	switch ev.Type {
	case clientv3.EventTypePut:
		k, v, err := m.codec.decode(ev.Kv)
		return Change[K, V]{Key: k, Value: v}, err
	case clientv3.EventTypeDelete:
		k, err := m.codec.key(string(ev.Kv.Key))
		return Change[K, V]{Key: k, Deleted: true}, err
	}
	return Change[K, V]{}, fmt.Errorf("key %q: unknown event type %v", ev.Kv.Key, ev.Type)
}

// skipped reports whether the mirror skips an unreadable key, and warns
// that it does.
func (m *Mirror[K, V]) skipped(key []byte, err error) bool {
	if m.codec.skip {
		m.s.log.Warn("skipping unreadable "+m.codec.name, "key", string(key), "err", err)
	}
	return m.codec.skip
}

// Synced returns the etcd revision up to which the sink has been handed
// every change: the list's, then the watch's progress (0 before the
// first list). A watch that stalls stops it, though etcd answers reads.
func (m *Mirror[K, V]) Synced() int64 { return m.synced.Load() }

// progressed records that the sink has everything up to rev.
func (m *Mirror[K, V]) progressed(rev int64) {
	for {
		cur := m.synced.Load()
		if rev <= cur || m.synced.CompareAndSwap(cur, rev) {
			return
		}
	}
}
