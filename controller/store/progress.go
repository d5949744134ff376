package store

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"
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
// the store's mirrors hold (they share one etcd watch stream, theirs
// alone: mirrorStream): each then learns that it has seen every event up
// to etcd's current revision (Mirror.Synced). etcd answers only once
// every watch on the stream is caught up, so a stalled mirror holds the
// answer back.
func (s *Store) RequestProgress(ctx context.Context) error {
	return s.cli.RequestProgress(mirrorStream(ctx))
}

// mirrorStreamKey is the gRPC metadata that puts the mirrors' watches on
// an etcd watch stream of their own (the etcd client shares one stream
// among the watches whose contexts carry the same metadata).
const mirrorStreamKey = "anyctl-watch-stream"

// mirrorStream returns ctx for a mirror's watch or a progress request:
// on the mirrors' stream, requiring a leader. etcd drops a progress
// request while any watch on its stream is catching up, so another
// watch there (an Admin API Watch from an old revision, with thousands
// of revisions to send) would hold back the replica's confirmations
// (freshness) for as long as it takes to catch up.
func mirrorStream(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(clientv3.WithRequireLeader(ctx), mirrorStreamKey, "mirrors")
}
