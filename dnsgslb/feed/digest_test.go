package feed_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/anyctl/anyctl/dnsgslb/feed"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// controllerBeforeDigests is a GSLB feed from before snapshot digests: it
// confirms its state, ignores the digest a server says it holds and sends
// its snapshot, which has none, on every subscribe.
type controllerBeforeDigests struct {
	v1.UnimplementedGslbFeedServiceServer
	mu   sync.Mutex // guards reqs
	reqs []*v1.SubscribeRequest
}

func (c *controllerBeforeDigests) Subscribe(req *v1.SubscribeRequest, stream v1.GslbFeedService_SubscribeServer) error {
	c.mu.Lock()
	c.reqs = append(c.reqs, req)
	c.mu.Unlock()
	if err := stream.Send(&v1.SubscribeResponse{Snapshot: &v1.GslbSnapshot{Revision: 7}, Freshness: &v1.FeedFreshness{}}); err != nil {
		return err
	}
	<-stream.Context().Done()
	return nil
}

// TestFeedFromAControllerBeforeDigests: a DNS server holding a snapshot
// with a digest says it on subscribe; a controller from before digests
// ignores it and sends its snapshot, which the server applies as before.
func TestFeedFromAControllerBeforeDigests(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	older := &controllerBeforeDigests{}
	gs := grpc.NewServer()
	v1.RegisterGslbFeedServiceServer(gs, older)
	go gs.Serve(l)
	t.Cleanup(gs.Stop)
	digest := bytes.Repeat([]byte{0xd1}, 32)
	logs := newLogRecorder()
	applied := make(chan *v1.GslbSnapshot, 1)
	runFeed(t, feed.Config{Controller: l.Addr().String(), Logger: slog.New(logs), Digest: func() []byte { return digest }},
		func(_ context.Context, s *v1.GslbSnapshot) error {
			applied <- s
			return nil
		}, func() int64 { return 7 })
	select {
	case s := <-applied:
		if s.GetRevision() != 7 {
			t.Errorf("applied revision %d, want 7", s.GetRevision())
		}
	case <-time.After(waitLimit):
		t.Fatalf("no snapshot applied from a controller before digests; log:\n%s", logs.String())
	}
	logs.await(t, "gslb feed connected")
	older.mu.Lock()
	defer older.mu.Unlock()
	if req := older.reqs[0]; req.GetRevision() != 7 || !bytes.Equal(req.GetDigest(), digest) {
		t.Errorf("subscribed holding revision %d, digest %x; want 7, %x", req.GetRevision(), req.GetDigest(), digest)
	}
}

// currentOfAnother says that a snapshot other than the one held is
// current: what no controller should say.
type currentOfAnother struct {
	v1.UnimplementedGslbFeedServiceServer
}

func (currentOfAnother) Subscribe(req *v1.SubscribeRequest, stream v1.GslbFeedService_SubscribeServer) error {
	digest := append([]byte{0}, req.GetDigest()...)
	if err := stream.Send(&v1.SubscribeResponse{Current: &v1.SnapshotCurrent{Revision: req.GetRevision(), Digest: digest}}); err != nil {
		return err
	}
	<-stream.Context().Done()
	return nil
}

// TestFeedRefusesTheWordThatAnotherSnapshotIsCurrent: a replica that
// says that a snapshot other than the one held is current is not taken
// at its word: the feed does not count as connected and tries again.
func TestFeedRefusesTheWordThatAnotherSnapshotIsCurrent(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	v1.RegisterGslbFeedServiceServer(gs, currentOfAnother{})
	go gs.Serve(l)
	t.Cleanup(gs.Stop)
	logs := newLogRecorder()
	var connected atomic.Bool
	runFeed(t, feed.Config{Controller: l.Addr().String(), Logger: slog.New(logs), Digest: func() []byte { return []byte{0xd1} },
		Connected: func(up bool) { connected.Store(up) }}, nil, func() int64 { return 7 })
	logs.await(t, "the replica said that revision 7 (digest 00d1) is current, but this server holds revision 7 (digest d1)")
	if logs.has("gslb feed connected") || connected.Load() {
		t.Errorf("the feed counted as connected; log:\n%s", logs.String())
	}
}
