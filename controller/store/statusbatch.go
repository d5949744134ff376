package store

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Reports are written in shared transactions: every StatusSession of a
// Store hands its write to the Store's statusBatcher and waits for its
// outcome, and the batcher puts the writes waiting at the time together in
// one transaction. Reports change in bursts (agents that send every
// report in full name the new config revision after a change, one write
// per PoP within a report interval; a failure seen by many PoPs); as
// separate transactions each is a raft proposal and an apply of its own,
// competing with the config sends. Batched, a burst of them costs a few
// transactions; a lone write still goes at once, in a transaction of its
// own. (An acknowledgement of a new revision alone is not a report write:
// heldrev.go.)
const (
	// statusTxnOps bounds the writes in one transaction: etcd's default
	// --max-txn-ops.
	statusTxnOps = 128
	// statusTxnBytes bounds the reports' bytes in one transaction, well
	// under etcd's default --max-request-bytes (1.5 MiB) and the client's
	// send limit; a larger report goes alone.
	statusTxnBytes = 512 << 10
	// statusTxnsInFlight is how many transactions may be under way at
	// once: while they are, more writes wait and go together.
	statusTxnsInFlight = 1
	// statusGather is how long a transaction waits for more writes when
	// others came while the last one was under way (a burst: the reports
	// after a change); a lone write goes at once.
	statusGather = 20 * time.Millisecond
)

// statusBatcher writes reports of many sessions in shared transactions.
type statusBatcher struct {
	s    *Store
	reqs chan *statusPut
}

// statusPut is one session's write: its report under its lease.
type statusPut struct {
	// ctx is the writer's: a write whose writer has given up before its
	// transaction starts is left out.
	ctx   context.Context
	key   string
	value string
	lease clientv3.LeaseID
	// done receives the transaction's revision or its error.
	done chan statusPutResult
}

type statusPutResult struct {
	rev int64
	err error
}

// statusBatch returns the store's batcher, started on first use; its
// workers end with the store's client.
func (s *Store) statusBatch() *statusBatcher {
	s.batchOnce.Do(func() {
		s.batch = newStatusBatcher(s)
		for range statusTxnsInFlight {
			go s.batch.work(s.cli.Ctx())
		}
	})
	return s.batch
}

// newStatusBatcher returns a batcher with no workers yet.
func newStatusBatcher(s *Store) *statusBatcher {
	return &statusBatcher{s: s, reqs: make(chan *statusPut, statusQueue)}
}

// statusQueue is how many writes may wait for a worker to take them
// before more writers wait to hand theirs over.
const statusQueue = 1024

// put writes value to key under lease, in a transaction with whatever
// other reports wait meanwhile, and returns the revision it was written
// at. It returns ctx's error when ctx ends first; the write may then still
// happen.
func (b *statusBatcher) put(ctx context.Context, key, value string, lease clientv3.LeaseID) (int64, error) {
	p := &statusPut{ctx: ctx, key: key, value: value, lease: lease, done: make(chan statusPutResult, 1)}
	select {
	case b.reqs <- p:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-b.s.cli.Ctx().Done():
		return 0, b.s.cli.Ctx().Err()
	}
	select {
	case r := <-p.done:
		return r.rev, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// work commits batches until ctx ends: it waits for a write, takes every
// other one waiting (up to the bounds) and commits them together.
func (b *statusBatcher) work(ctx context.Context) {
	// carry is a write left out of the last batch (its key was in it, or
	// it did not fit): it goes first in the next.
	var carry *statusPut
	batch := make([]*statusPut, 0, statusTxnOps)
	keys := make(map[string]bool, statusTxnOps)
	for {
		batch = batch[:0]
		clear(keys)
		size := 0
		add := func(p *statusPut) bool {
			if p.ctx.Err() != nil {
				return true // its writer gave up: nothing to do
			}
			if keys[p.key] || (len(batch) > 0 && size+len(p.value) > statusTxnBytes) {
				return false
			}
			keys[p.key] = true
			size += len(p.value)
			batch = append(batch, p)
			return true
		}
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-b.reqs:
			case <-ctx.Done():
				return
			}
		}
		add(first)
		burst := len(b.reqs) > 0
		var gather <-chan time.Time
		if burst {
			gather = time.After(statusGather)
		}
	fill:
		for len(batch) < statusTxnOps {
			select {
			case p := <-b.reqs:
				if !add(p) {
					carry = p
					break fill
				}
				continue
			default:
			}
			if !burst {
				break
			}
			select {
			case p := <-b.reqs:
				if !add(p) {
					carry = p
					break fill
				}
			case <-gather:
				break fill
			case <-ctx.Done():
				break fill
			}
		}
		if len(batch) > 0 {
			b.commit(ctx, batch)
		}
	}
}

// commit writes the batch in one transaction and tells each writer.
func (b *statusBatcher) commit(ctx context.Context, batch []*statusPut) {
	ops := make([]clientv3.Op, len(batch))
	for i, p := range batch {
		ops[i] = clientv3.OpPut(p.key, p.value, clientv3.WithLease(p.lease))
	}
	var resp *clientv3.TxnResponse
	err := etcdCall(ctx, ReadTimeout, func(ctx context.Context) (err error) {
		resp, err = b.s.cli.Txn(ctx).Then(ops...).Commit()
		return err
	})
	var r statusPutResult
	if err != nil {
		r.err = err
	} else {
		r.rev = resp.Header.Revision
	}
	for _, p := range batch {
		p.done <- r
	}
}
