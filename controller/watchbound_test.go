package controller

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// TestWatchThatNeverReadsIsDropped opens a Watch whose client does not read
// (the smallest HTTP/2 windows, so the server's sends block), writes far more
// events than the stream may queue, and wants the server to end the stream
// with ResourceExhausted telling the client to list again, having queued no
// more than the bound. Before the bound, the controller buffered every event.
func TestWatchThatNeverReadsIsDropped(t *testing.T) {
	const bound = 16
	h := newHarness(t)
	a := &adminServer{log: h.log, st: h.st, metrics: h.m, cache: h.cache, watchQueue: bound, watchGrace: 100 * time.Millisecond}
	conn := smallWindowConn(t, func(gs *grpc.Server) { v1.RegisterAdminServiceServer(gs, a) })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The first event read shows the watch established; then no more reads.
	stream := watchFromFirst(t, ctx, conn, h)

	// About 1 KiB an event: 1,000 events fill both 64 KiB windows many
	// times over. Each apply's burst fits in the queue: only the stall fills it.
	pad := strings.Repeat("x", 1<<10)
	for batch := range 100 {
		objs := make([]*v1.Object, 10)
		for i := range objs {
			objs[i] = resource.Wrap(&v1.Pop{Metadata: &v1.ObjectMeta{Name: fmt.Sprintf("pop-%d-%d", batch, i), Description: pad}, Spec: &v1.PopSpec{}})
		}
		if _, err := h.st.Apply(context.Background(), objs, false, nil); err != nil {
			t.Fatal(err)
		}
		// The gauge also counts, for a moment, the event the sender has
		// taken off the queue and is sending: at most bound+1.
		if q := metricSum(t, h.m, "anyctl_controller_watch_queued_events"); q > bound+1 {
			t.Fatalf("%v events held for the one watcher, want at most %d queued and one being sent", q, bound)
		}
	}
	awaitTrue(t, "the stalled watcher dropped", func() bool { return metricSum(t, h.m, "anyctl_controller_streams_dropped_total") == 1 })
	if q := metricSum(t, h.m, "anyctl_controller_watch_queued_events"); q != 0 {
		t.Errorf("%v events still queued after the watcher was dropped, want 0", q)
	}

	// The client, reading at last, gets what was sent and then the verdict.
	n := 0
	var err error
	for {
		if _, err = stream.Recv(); err != nil {
			break
		}
		n++
	}
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "list again") {
		t.Fatalf("after %d events the watch ended with %v; want ResourceExhausted telling the client to list again", n, err)
	}
	if n == 0 || n >= 1000 {
		t.Errorf("the client received %d events; want those sent before the stall, then the stream cut short", n)
	}
	t.Logf("the client received %d events, then: %v", n, err)
}

// metricSum is the sum of the named series' gauge or counter values.
func metricSum(t *testing.T, m *metrics, name string) float64 {
	t.Helper()
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			sum += s.GetGauge().GetValue() + s.GetCounter().GetValue()
		}
	}
	return sum
}

// TestWatchThatReadsTakesInALargeApply: with the default bounds, a client
// that keeps reading gets every event of a large apply, a burst five
// times the queue, without being dropped.
func TestWatchThatReadsTakesInALargeApply(t *testing.T) {
	h := newHarness(t)
	a := &adminServer{log: h.log, st: h.st, metrics: h.m, cache: h.cache}
	gs := grpc.NewServer()
	v1.RegisterAdminServiceServer(gs, a)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stream := watchFromFirst(t, ctx, conn, h)
	const burst = 5 * defaultWatchQueue
	objs := make([]*v1.Object, burst)
	for i := range objs {
		objs[i] = popObject(fmt.Sprintf("pop-%d", i))
	}
	if _, err := h.st.Apply(context.Background(), objs, false, nil); err != nil {
		t.Fatal(err)
	}
	for n := range burst {
		if _, err := stream.Recv(); err != nil {
			t.Fatalf("after %d of the apply's %d events: %v", n, burst, err)
		}
	}
	if d := metricSum(t, h.m, "anyctl_controller_streams_dropped_total"); d != 0 {
		t.Errorf("%v streams dropped, want none", d)
	}
}

// watchFromFirst stores a PoP, watches PoPs from its revision and reads its
// event.
func watchFromFirst(t *testing.T, ctx context.Context, conn *grpc.ClientConn, h *harness) v1.AdminService_WatchClient {
	t.Helper()
	resp, err := h.st.Apply(context.Background(), []*v1.Object{popObject("first")}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := v1.NewAdminServiceClient(conn).Watch(ctx, &v1.WatchRequest{Kind: v1.Kind_KIND_POP, StartRevision: resp.GetRevision()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	return stream
}

// smallWindowConn serves what register adds on loopback and returns a
// client connection with 64 KiB flow-control windows: a client that stops
// reading soon blocks the server's sends, as a stalled one does.
func smallWindowConn(t *testing.T, register func(*grpc.Server)) *grpc.ClientConn {
	t.Helper()
	gs := grpc.NewServer()
	register(gs)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
