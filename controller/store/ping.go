package store

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Ping makes one linearizable read (which needs a majority of the members)
// within timeout, and says why it failed: an error wrapping ErrQuorumLost
// when the cluster cannot answer.
func (s *Store) Ping(ctx context.Context, timeout time.Duration) error {
	return etcdCall(ctx, timeout, func(ctx context.Context) error {
		_, err := s.cli.Get(ctx, root+"ping", clientv3.WithCountOnly())
		return err
	})
}
