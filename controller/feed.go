package controller

import (
	"log/slog"
	"time"

	"github.com/anyctl/anyctl/compile"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// feedServer streams the compiled GSLB snapshot to DNS servers: the current
// one on subscribe, then a new one whenever its content changes.
type feedServer struct {
	v1.UnimplementedGslbFeedServiceServer
	cache    *stateCache
	observed *observer
	log      *slog.Logger
	metrics  *metrics
	// stop is closed when the controller shuts down, ending every stream.
	stop <-chan struct{}
}

func (f *feedServer) Subscribe(req *v1.SubscribeRequest, stream v1.GslbFeedService_SubscribeServer) error {
	ctx := stream.Context()
	f.metrics.feedStreams.Inc()
	defer f.metrics.feedStreams.Dec()
	f.log.Info("dns server subscribed", "server", req.GetServerName(), "held_revision", req.GetRevision())
	var last *v1.GslbSnapshot
	for {
		s, changed := f.cache.Current()
		obs, obsChanged := f.observed.Current()
		snap := compile.GslbSnapshot(s, obs)
		if last == nil || !sameSnapshot(snap, last) {
			snap.CompiledAt = timestamppb.New(time.Now())
			if err := stream.Send(&v1.SubscribeResponse{Snapshot: snap}); err != nil {
				return err
			}
			last = snap
		}
		select {
		case <-ctx.Done():
			return nil
		case <-f.stop:
			return status.Error(codes.Unavailable, "controller shutting down")
		case <-changed:
		case <-obsChanged:
		}
	}
}

// sameSnapshot compares snapshots ignoring revision and compile time.
func sameSnapshot(a, b *v1.GslbSnapshot) bool {
	ac, bc := proto.Clone(a).(*v1.GslbSnapshot), proto.Clone(b).(*v1.GslbSnapshot)
	ac.Revision, bc.Revision = 0, 0
	ac.CompiledAt, bc.CompiledAt = nil, nil
	return proto.Equal(ac, bc)
}
