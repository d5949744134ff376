package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/anyctl/anyctl/backoff"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// maxAttempts bounds how often a write is redone after losing the race to
// another write.
const maxAttempts = 10

// writeGuarded commits the operations that decide returns for a snapshot,
// together with a put of the guard, if the guard has not moved since the
// snapshot. When it has moved, it waits a jittered moment and redoes the
// snapshot and the decision. decide returning no operations ends the write
// without writing, at revision 0. what names the write in errors.
//
// first, when not nil, is the snapshot of the first attempt (one the caller
// keeps, see ApplyOn); later attempts read from etcd.
//
// The changes decide returns are recorded, with author, as one history
// record in the same transaction.
func (s *Store) writeGuarded(ctx context.Context, what string, author Author, first *snapshot, decide func(*snapshot) ([]clientv3.Op, []*v1.HistoryChange, error)) (int64, error) {
	bo := backoff.New(5*time.Millisecond, 200*time.Millisecond)
	for attempt := 1; ; attempt++ {
		snap := first
		if snap == nil || attempt > 1 {
			var err error
			if snap, err = s.snapshot(ctx); err != nil {
				return 0, fmt.Errorf("%s: %w", what, err)
			}
		}
		ops, changes, err := decide(snap)
		if err != nil || len(ops) == 0 {
			return 0, err
		}
		rec, err := author.record(snap.state.Revision, changes)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", what, err)
		}
		ops = append(ops, clientv3.OpPut(GuardKey, ""), rec)
		guard := clientv3.Compare(clientv3.ModRevision(GuardKey), "=", snap.guardRev)
		if snap.held {
			// No desired-state write since the state's revision: every
			// such write moves the guard.
			guard = clientv3.Compare(clientv3.ModRevision(GuardKey), "<", snap.state.Revision+1)
		}
		// A commit that etcd refused with "leader changed" is made
		// again: it was not carried out, and the guard would refuse a
		// repeat of one that was.
		var resp *clientv3.TxnResponse
		err = etcdCall(ctx, 0, func(ctx context.Context) (err error) {
			resp, err = s.cli.Txn(ctx).
				If(guard).
				Then(ops...).
				Commit()
			return err
		})
		if err != nil {
			return 0, txnError(what, ops, err)
		}
		if resp.Succeeded {
			return resp.Header.Revision, nil
		}
		if attempt == maxAttempts {
			return 0, fmt.Errorf("%s: %w; gave up after %d attempts, try again", what, ErrContention, attempt)
		}
		s.log.Debug("desired state changed since it was read; redoing the write",
			"write", what, "read_revision", snap.state.Revision, "attempt", attempt)
		if !bo.Wait(ctx) {
			return 0, fmt.Errorf("%s: %w", what, ctx.Err())
		}
	}
}

// txnError explains a failed transaction, naming the server's limits when
// it was too large.
func txnError(what string, ops []clientv3.Op, err error) error {
	if noSpace(err) {
		return fmt.Errorf("%s: %w; nothing was written. Reclaim space: compact etcd's history and defragment it (etcdctl compact, etcdctl defrag), "+
			"or raise its --quota-backend-bytes; free disk space if its file system is full; then clear the alarm (etcdctl alarm disarm)", what, ErrNoSpace)
	}
	if errors.Is(err, rpctypes.ErrTooManyOps) || errors.Is(err, rpctypes.ErrRequestTooLarge) ||
		status.Code(err) == codes.ResourceExhausted {
		size := 0
		for _, op := range ops {
			size += len(op.KeyBytes()) + len(op.ValueBytes())
		}
		return fmt.Errorf("%s: %d operations of %d bytes are %w (%w): split the manifests into several files and apply them one at a time, or raise the etcd server's --max-txn-ops and --max-request-bytes",
			what, len(ops), size, ErrTooLarge, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// noSpace reports whether etcd refused err's request for lack of space.
func noSpace(err error) bool {
	return err != nil && rpctypes.ErrorDesc(err) == rpctypes.ErrNoSpace.Error()
}
