package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// StatusSession writes one agent stream's reports of its PoP to StatusKey
// under a lease, so that the status of an agent that goes away expires by
// itself: the lease is kept alive while the stream lives and expires its
// TTL after it ends. The lease alone proves the agent is there: a report
// that says what the stored one says (same, the session's comparison) is
// not written again, so a fleet at rest costs etcd no writes.
type StatusSession struct {
	s    *Store
	pop  string
	ttl  time.Duration
	same func(stored, next *v1.PopStatus) bool

	mu      sync.Mutex // guards lease, stopKA, kaAlive and stored
	lease   clientv3.LeaseID
	stopKA  context.CancelFunc
	kaAlive bool
	// stored is the report last written under lease, nil when none is.
	stored *v1.PopStatus
}

// StatusSession returns a session for one PoP's reports whose lease has
// the TTL ttl (whole seconds). same reports whether next says nothing
// the stored report does not; nil writes every report.
func (s *Store) StatusSession(pop string, ttl time.Duration, same func(stored, next *v1.PopStatus) bool) *StatusSession {
	return &StatusSession{s: s, pop: pop, ttl: ttl, same: same}
}

// Put stores a report unless it is the same as the stored one and the
// lease holding that is alive; written says whether it wrote. The first
// report grants the lease and starts its keepalive, bound to ctx (the
// stream's context).
func (ss *StatusSession) Put(ctx context.Context, st *v1.PopStatus) (written bool, err error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	alive := ss.lease != 0 && ss.kaAlive
	if alive && ss.stored != nil && ss.same != nil && ss.same(ss.stored, st) {
		return false, nil
	}
	if !alive {
		if err := ss.grantLocked(ctx); err != nil {
			return false, err
		}
	}
	b, err := proto.Marshal(st)
	if err != nil {
		return false, fmt.Errorf("PoP %q status: %w", ss.pop, err)
	}
	_, err = ss.s.cli.Put(ctx, StatusKey(ss.pop), string(b), clientv3.WithLease(ss.lease))
	if err != nil {
		ss.kaAlive, ss.stored = false, nil
		return false, fmt.Errorf("PoP %q status: %w", ss.pop, err)
	}
	ss.stored = st
	return true, nil
}

// Expire ends the session's lease at once, removing the stored report: the
// agent's stream lives but it stopped reporting. The next Put grants a new
// lease and writes.
func (ss *StatusSession) Expire(ctx context.Context) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.lease == 0 {
		return nil
	}
	lease := ss.lease
	if ss.stopKA != nil {
		ss.stopKA()
	}
	ss.lease, ss.stopKA, ss.kaAlive, ss.stored = 0, nil, false, nil
	if _, err := ss.s.cli.Revoke(ctx, lease); err != nil {
		return fmt.Errorf("PoP %q status lease: revoke: %w", ss.pop, err)
	}
	return nil
}

func (ss *StatusSession) grantLocked(ctx context.Context) error {
	if ss.stopKA != nil {
		ss.stopKA()
	}
	g, err := ss.s.cli.Grant(ctx, int64(ss.ttl/time.Second))
	if err != nil {
		return fmt.Errorf("PoP %q status lease: %w", ss.pop, err)
	}
	kactx, cancel := context.WithCancel(ctx)
	ka, err := ss.s.cli.KeepAlive(kactx, g.ID)
	if err != nil {
		cancel()
		return fmt.Errorf("PoP %q status lease keepalive: %w", ss.pop, err)
	}
	ss.lease, ss.stopKA, ss.kaAlive, ss.stored = g.ID, cancel, true, nil
	go func() {
		for range ka {
		}
		ss.mu.Lock()
		if ss.lease == g.ID {
			ss.kaAlive, ss.stored = false, nil
		}
		ss.mu.Unlock()
	}()
	return nil
}

// StatusMirror returns a mirror of the PoPs' live reports, by PoP. An
// unreadable report is skipped with a warning.
func (s *Store) StatusMirror(sink Sink[string, *v1.PopStatus]) *Mirror[string, *v1.PopStatus] {
	return newMirror(s, codec[string, *v1.PopStatus]{
		name:   "PoP status",
		prefix: StatusPrefix,
		key:    popOfStatusKey,
		decode: func(kv *mvccpb.KeyValue) (string, *v1.PopStatus, error) {
			pop, err := popOfStatusKey(string(kv.Key))
			if err != nil {
				return "", nil, err
			}
			st := &v1.PopStatus{}
			if err := proto.Unmarshal(kv.Value, st); err != nil {
				return "", nil, err
			}
			return pop, st, nil
		},
		skip: true,
	}, sink)
}

// popOfStatusKey parses a key written by StatusKey.
func popOfStatusKey(key string) (string, error) {
	pop, ok := strings.CutPrefix(key, StatusPrefix)
	if !ok {
		return "", fmt.Errorf("key %q is not %s<pop>", key, StatusPrefix)
	}
	return pop, nil
}
