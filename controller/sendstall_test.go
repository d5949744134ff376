package controller

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestFeedSubscriberThatStopsReadingIsDropped subscribes to the GSLB feed
// with the smallest HTTP/2 windows, reads the first snapshot and no more,
// and makes snapshots larger than both windows: the send that cannot finish
// must end the stream with ResourceExhausted telling the DNS server to
// resubscribe, not hold the handler forever.
func TestFeedSubscriberThatStopsReadingIsDropped(t *testing.T) {
	h := newHarness(t)
	h.runCache()
	awaitClosed(t, "the desired state loaded", h.cache.Ready())
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	f := &feedServer{cache: h.cache, observed: h.obs, log: h.log, metrics: h.m, stop: stop, sendStall: 200 * time.Millisecond}
	conn := smallWindowConn(t, func(gs *grpc.Server) { v1.RegisterGslbFeedServiceServer(gs, f) })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stream, err := v1.NewGslbFeedServiceClient(conn).Subscribe(ctx, &v1.SubscribeRequest{ServerName: "stalled"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}

	// PoPs with 1 KiB names: each snapshot from here on is over 200 KiB.
	pad := strings.Repeat("x", 1<<10)
	for batch := range 5 {
		objs := make([]*v1.Object, 50)
		for i := range objs {
			objs[i] = popObject(fmt.Sprintf("pop-%d-%d-%s", batch, i, pad))
		}
		if _, err := h.st.Apply(context.Background(), objs, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	awaitTrue(t, "the stalled subscriber dropped", func() bool { return metricSum(t, h.m, "anyctl_controller_streams_dropped_total") == 1 })

	n := 0
	for {
		if _, err = stream.Recv(); err != nil {
			break
		}
		n++
	}
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "resubscribe") {
		t.Fatalf("after %d snapshots the feed ended with %v; want ResourceExhausted telling the server to resubscribe", n, err)
	}
	t.Logf("the client received %d more snapshots, then: %v", n, err)
}

// TestSendWithinAnswersWhatTheSendAnswers: a send that finishes in time
// answers for itself, one that does not is the client falling behind.
func TestSendWithinAnswersWhatTheSendAnswers(t *testing.T) {
	boom := fmt.Errorf("boom")
	if err := sendWithin(time.Minute, func() error { return nil }); err != nil {
		t.Errorf("quick send: %v, want nil", err)
	}
	if err := sendWithin(time.Minute, func() error { return boom }); err != boom {
		t.Errorf("failed send: %v, want %v", err, boom)
	}
	release := make(chan struct{})
	defer close(release)
	if err := sendWithin(10*time.Millisecond, func() error { <-release; return nil }); err != errFellBehind {
		t.Errorf("stuck send: %v, want errFellBehind", err)
	}
}
