package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// StatusSession writes one agent stream's reports of its PoP to StatusKey
// under the replica's lease, so that the report of a replica that goes
// away expires by itself; the report of a stream that ends is deleted its
// TTL later (End), unless written again by then. The lease alone proves
// the agent is there: a report that says what the stored one says (same,
// the session's comparison) is not written again, so a fleet at rest
// costs etcd no writes. The writes of every session of a Store go in
// shared transactions (statusbatch.go).
type StatusSession struct {
	s     *Store
	pop   string
	lease *ReplicaLease
	ttl   time.Duration
	same  func(stored, next *v1.PopStatus) bool

	mu sync.Mutex // guards written, modRev and ended
	// written is the report last written and the lease it is under; nil
	// when none is stored. It is also published in snap for Unchanged.
	written *writtenReport
	// modRev is the key's revision when this session last wrote it.
	modRev int64
	// ended is set by End: nothing is written after it.
	ended bool

	snap atomic.Pointer[writtenReport]
}

// writtenReport is a report stored under a lease, lost closed when the
// lease is.
type writtenReport struct {
	st    *v1.PopStatus
	lease clientv3.LeaseID
	lost  <-chan struct{}
}

// StatusSession returns a session for one PoP's reports under lease; ttl
// is how long the report outlives the session's End. same reports whether
// next says nothing the stored report does not; nil writes every report.
func (s *Store) StatusSession(pop string, lease *ReplicaLease, ttl time.Duration, same func(stored, next *v1.PopStatus) bool) *StatusSession {
	return &StatusSession{s: s, pop: pop, lease: lease, ttl: ttl, same: same}
}

// Unchanged reports whether st says nothing the stored report does not,
// under a lease still held: it takes no lock, for the stream's reader,
// which must know no other report is waiting to be written. The stored
// report itself (an agent's unchanged message stands for its last full
// report, usually the one written) is not compared field by field.
func (ss *StatusSession) Unchanged(st *v1.PopStatus) bool {
	w := ss.snap.Load()
	if w == nil || ss.same == nil || isClosed(w.lost) {
		return false
	}
	return w.st == st || ss.same(w.st, st)
}

// Put stores a report unless it is the same as the stored one and the
// lease holding that is held; written says whether it wrote. It acquires
// the replica's lease when none is held.
func (ss *StatusSession) Put(ctx context.Context, st *v1.PopStatus) (written bool, err error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended {
		return false, nil
	}
	lease, lost, err := ss.lease.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("PoP %q status: %w", ss.pop, err)
	}
	if w := ss.written; w != nil && w.lease == lease && !isClosed(lost) && ss.same != nil && ss.same(w.st, st) {
		return false, nil
	}
	b, err := proto.Marshal(st)
	if err != nil {
		return false, fmt.Errorf("PoP %q status: %w", ss.pop, err)
	}
	key, value := StatusKey(ss.pop), string(b)
	ss.s.own.note(key, value, st)
	// In a transaction with the other sessions' writes waiting meanwhile
	// (statusbatch.go).
	rev, err := ss.s.statusBatch().put(ctx, key, value, lease)
	if err != nil {
		ss.setWrittenLocked(nil)
		return false, fmt.Errorf("PoP %q status: %w", ss.pop, err)
	}
	ss.modRev = rev
	ss.setWrittenLocked(&writtenReport{st: st, lease: lease, lost: lost})
	return true, nil
}

func (ss *StatusSession) setWrittenLocked(w *writtenReport) {
	ss.written = w
	ss.snap.Store(w)
}

// Expire deletes the stored report at once, if it is still the one this
// session wrote: the agent's stream lives but it stopped reporting. The
// next Put writes.
func (ss *StatusSession) Expire(ctx context.Context) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	w := ss.written
	if w == nil {
		return nil
	}
	ss.setWrittenLocked(nil)
	if err := ss.deleteLocked(ctx); err != nil {
		// Still stored: the next Expire tries again.
		ss.setWrittenLocked(w)
		return fmt.Errorf("PoP %q status: delete: %w", ss.pop, err)
	}
	return nil
}

// End ends the session: the stored report is deleted ttl later unless it
// was written again by then (another stream of the PoP); a replica that
// stops before leaves it to the lease, which expires within ttl.
func (ss *StatusSession) End() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ended {
		return
	}
	ss.ended = true
	ss.s.own.forget(StatusKey(ss.pop))
	if ss.written == nil {
		return
	}
	ss.setWrittenLocked(nil)
	var t *time.Timer
	t = time.AfterFunc(ss.ttl, func() {
		ss.mu.Lock()
		defer ss.mu.Unlock()
		ctx, cancel := context.WithTimeout(ss.s.cli.Ctx(), ReadTimeout)
		defer cancel()
		if err := ss.deleteLocked(ctx); err != nil && ss.s.cli.Ctx().Err() == nil {
			// The lease may outlive an etcd that did not answer: try
			// again rather than leave a gone agent's report.
			t.Reset(endRetry)
		}
	})
}

// endRetry is how soon an ended session's delete is tried again after it
// failed.
const endRetry = 5 * time.Second

// deleteLocked deletes the report if it is still at the revision this
// session wrote it at.
func (ss *StatusSession) deleteLocked(ctx context.Context) error {
	key := StatusKey(ss.pop)
	_, err := ss.s.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", ss.modRev)).Then(clientv3.OpDelete(key)).Commit()
	return err
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// StatusMirror returns a mirror of the PoPs' live reports, by PoP. An
// unreadable report is skipped with a warning. A report this Store's
// sessions wrote comes as the message they wrote (ownReports): the
// mirror's messages are shared and must not be modified.
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
			if st := s.own.take(string(kv.Key), kv.Value); st != nil {
				return pop, st, nil
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
