package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

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

// Campaign waits until the replica named id leads, and returns its term;
// Close the term when done with it. The term's session outlives ctx until
// Close, so that a stopping leader can Resign and hand over at once.
func (s *Store) Campaign(ctx context.Context, id string) (*Term, error) {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	sess, err := concurrency.NewSession(s.cli, concurrency.WithTTL(sessionTTL), concurrency.WithContext(sctx))
	if err != nil {
		cancel()
		return nil, err
	}
	el := concurrency.NewElection(sess, ElectionPrefix)
	if err := el.Campaign(ctx, id); err != nil {
		sess.Close()
		cancel()
		return nil, err
	}
	return &Term{s: s, sess: sess, el: el, cancel: cancel, key: el.Key(), rev: el.Rev()}, nil
}

// Done is closed when the term's session ends: its lease expired or was
// revoked.
func (t *Term) Done() <-chan struct{} { return t.sess.Done() }

// Resign gives the leadership up, so that another replica leads at once.
func (t *Term) Resign(ctx context.Context) error { return t.el.Resign(ctx) }

// Close ends the term's session, revoking its lease.
func (t *Term) Close() {
	t.sess.Close()
	t.cancel()
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
