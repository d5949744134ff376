package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// sessionTTL is the election session's lease TTL in seconds: how long a
// leader that vanished keeps its election key.
const sessionTTL = 5

// ErrDeposed reports a leader's write refused because the election key it
// won is gone: another replica leads, or is about to.
var ErrDeposed = errors.New("no longer the leader")

// Term is one leadership won in the election under ElectionPrefix: the
// election key this replica won and the revision it was created at. The
// leader's writes commit only while that key stands, so a replica deposed
// without noticing yet (its session lives up to its TTL after it lost the
// key) cannot write over its successor's.
type Term struct {
	s      *Store
	sess   *concurrency.Session
	el     *concurrency.Election
	cancel context.CancelFunc
	key    string
	rev    int64
}

// stopTimeout bounds each etcd call a stopping leader makes to hand over
// (revoking its session's lease): with etcd gone it cannot succeed, and the
// lease expires by itself within sessionTTL.
const stopTimeout = time.Second

// Campaign waits until the replica named id leads, or ctx ends, and returns
// its term; Close the term when done with it. The term's session outlives
// ctx until Close, so that a stopping leader can hand over at once.
func (s *Store) Campaign(ctx context.Context, id string) (*Term, error) {
	// The lease is granted under ctx: etcd's session would grant it under
	// its own context, which must outlive ctx, and a stop while etcd is
	// unreachable would wait for etcd.
	g, err := s.cli.Grant(ctx, sessionTTL)
	if err != nil {
		return nil, fmt.Errorf("election session lease: %w", err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	sess, err := concurrency.NewSession(s.cli, concurrency.WithTTL(sessionTTL), concurrency.WithLease(g.ID), concurrency.WithContext(sctx))
	if err != nil {
		cancel()
		s.revoke(g.ID)
		return nil, err
	}
	t := &Term{s: s, sess: sess, cancel: cancel}
	el := concurrency.NewElection(sess, ElectionPrefix)
	// etcd's Campaign, cancelled, resigns under the client's context,
	// which waits for an unreachable etcd until the client closes: it
	// runs apart, and a cancelled campaign returns at once. Revoking the
	// lease removes the key it may have created.
	won := make(chan error, 1)
	go func() { won <- el.Campaign(ctx, id) }()
	select {
	case err = <-won:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		t.Close()
		return nil, err
	}
	t.el, t.key, t.rev = el, el.Key(), el.Rev()
	return t, nil
}

// Done is closed when the term's session ends: its lease expired or was
// revoked.
func (t *Term) Done() <-chan struct{} { return t.sess.Done() }

// Close ends the term's session and revokes its lease, which deletes its
// election key so that another replica leads at once. It waits at most
// stopTimeout for etcd; a lease it could not revoke expires within
// sessionTTL.
func (t *Term) Close() {
	t.sess.Orphan()
	t.cancel()
	t.s.revoke(t.sess.Lease())
}

// revoke revokes a lease, waiting at most stopTimeout.
func (s *Store) revoke(id clientv3.LeaseID) {
	ctx, cancel := context.WithTimeout(s.cli.Ctx(), stopTimeout)
	defer cancel()
	_, _ = s.cli.Revoke(ctx, id)
}

// PutDrain commits w while the term holds, if w's condition holds. It
// reports whether it did and the revision the transaction saw, and an error
// wrapping ErrDeposed when the term is over.
func (t *Term) PutDrain(ctx context.Context, w DrainWrite) (ok bool, rev int64, err error) {
	return t.commit(ctx, []clientv3.Cmp{w.cond}, w.put)
}

// DeleteDrain deletes a PoP's drain record while the term holds, if the
// record is still at modRev. It reports whether it deleted, and an error
// wrapping ErrDeposed when the term is over.
func (t *Term) DeleteDrain(ctx context.Context, pop string, modRev int64) (bool, error) {
	key := DrainKey(pop)
	ok, _, err := t.commit(ctx, []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(key), "=", modRev)}, clientv3.OpDelete(key))
	return ok, err
}

// PutHolds stores the withdrawal budget's holds, by service, while the
// term holds; it returns an error wrapping ErrDeposed when the term is over.
func (t *Term) PutHolds(ctx context.Context, holds map[string][]string) error {
	b, err := json.Marshal(holds)
	if err != nil {
		return fmt.Errorf("withdrawal budget holds: %w", err)
	}
	_, _, err = t.commit(ctx, nil, clientv3.OpPut(HoldsKey, string(b)))
	return err
}

// commit commits ops if the term holds and cmps are true. It reports
// whether cmps were true and the revision the transaction saw, and
// ErrDeposed when the term is over.
func (t *Term) commit(ctx context.Context, cmps []clientv3.Cmp, ops ...clientv3.Op) (ok bool, rev int64, err error) {
	held := clientv3.Compare(clientv3.CreateRevision(t.key), "=", t.rev)
	resp, err := t.s.cli.Txn(ctx).If(held).Then(clientv3.OpTxn(cmps, ops, nil)).Commit()
	if err != nil {
		return false, 0, err
	}
	if !resp.Succeeded {
		return false, resp.Header.Revision, fmt.Errorf("election key %q created at revision %d is gone: %w", t.key, t.rev, ErrDeposed)
	}
	return resp.Responses[0].GetResponseTxn().GetSucceeded(), resp.Header.Revision, nil
}
