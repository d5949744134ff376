package controller

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// errDeposed reports a leader's write refused because the election key it
// won is gone: another replica leads, or is about to.
var errDeposed = errors.New("no longer the leader")

// term is one leadership: the election key this replica won and the
// revision it was created at. The leader's writes commit only while that key
// stands, so a replica deposed without noticing yet (its session lives up
// to its TTL after it lost the key) cannot write over its successor's.
type term struct {
	key string
	rev int64
}

// commit commits ops if the term holds and cmps are true. It reports
// whether cmps were true and the revision the transaction saw, and
// errDeposed when the term is over.
func (t term) commit(ctx context.Context, cli *clientv3.Client, cmps []clientv3.Cmp, ops ...clientv3.Op) (ok bool, rev int64, err error) {
	held := clientv3.Compare(clientv3.CreateRevision(t.key), "=", t.rev)
	resp, err := cli.Txn(ctx).If(held).Then(clientv3.OpTxn(cmps, ops, nil)).Commit()
	if err != nil {
		return false, 0, err
	}
	if !resp.Succeeded {
		return false, resp.Header.Revision, fmt.Errorf("election key %q created at revision %d is gone: %w", t.key, t.rev, errDeposed)
	}
	return resp.Responses[0].GetResponseTxn().GetSucceeded(), resp.Header.Revision, nil
}
