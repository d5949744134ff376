package store

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Revision makes one linearizable read within timeout and returns etcd's
// revision as of it: every write committed before the call is at or
// below it. It fails like Ping without a majority of etcd.
func (s *Store) Revision(ctx context.Context, timeout time.Duration) (int64, error) {
	var rev int64
	err := etcdCall(ctx, timeout, func(ctx context.Context) error {
		resp, err := s.cli.Get(ctx, root+"ping", clientv3.WithCountOnly())
		if err == nil {
			rev = resp.Header.Revision
		}
		return err
	})
	return rev, err
}

// RequestProgress asks etcd for a progress notification on the watches
// the store's mirrors and Watch hold (they share one etcd watch stream):
// each then learns that it has seen every event up to etcd's current
// revision (Mirror.Synced). etcd answers only once every watch on the
// stream is caught up, so a stalled watch holds the answer back.
func (s *Store) RequestProgress(ctx context.Context) error {
	// The watches are opened with WithRequireLeader: the same metadata
	// names the same stream.
	return s.cli.RequestProgress(clientv3.WithRequireLeader(ctx))
}
