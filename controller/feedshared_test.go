package controller

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/anyctl/anyctl/compile"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation/validationtest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
)

// feedConn serves f with the controller's codec on loopback and returns a
// client connection to it.
func feedConn(t testing.TB, f *feedServer) *grpc.ClientConn {
	t.Helper()
	gs := grpc.NewServer(newRequestCodec().serverOptions()...)
	v1.RegisterGslbFeedServiceServer(gs, f)
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
	return conn
}

// TestFeedStreamsShareOneCompiledSnapshot subscribes three DNS servers and
// changes an origin's health verdict: every server must be sent the one
// snapshot compiled for the change (one compile time), not a compile of its
// own per stream, which at thousands of records and tens of servers made
// each health change cost seconds of CPU. A DNS server that subscribes
// after a write that changed nothing it answers from gets that write's
// revision, while the streams open before are not sent it again.
func TestFeedStreamsShareOneCompiledSnapshot(t *testing.T) {
	// The zone's SOA serial is set, so that a write leaves it as it is.
	zone := validationtest.Zone(0)
	zone.Spec.Soa.Serial = 7
	objs := []*v1.Object{resource.Wrap(validationtest.Origin(0)), resource.Wrap(zone)}
	for i := range 20 {
		objs = append(objs, resource.Wrap(validationtest.Record(i, 1, 1)))
	}
	h := newHarness(t, objs...)
	h.runCache()
	awaitClosed(t, "the desired state loaded", h.cache.Ready())
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	conn := feedConn(t, &feedServer{cache: h.cache, observed: h.obs, log: h.log, metrics: h.m, stop: stop})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	type recv struct {
		snap *v1.GslbSnapshot
		err  error
	}
	subscribe := func(name string) <-chan recv {
		stream, err := v1.NewGslbFeedServiceClient(conn).Subscribe(ctx, &v1.SubscribeRequest{ServerName: name})
		if err != nil {
			t.Fatal(err)
		}
		out := make(chan recv, 16)
		go func() {
			for {
				m, err := stream.Recv()
				out <- recv{m.GetSnapshot(), err}
				if err != nil {
					return
				}
			}
		}()
		return out
	}
	next := func(name string, ch <-chan recv) *v1.GslbSnapshot {
		t.Helper()
		select {
		case r := <-ch:
			if r.err != nil {
				t.Fatalf("%s: %v", name, r.err)
			}
			return r.snap
		case <-ctx.Done():
			t.Fatalf("%s: no snapshot", name)
		}
		return nil
	}
	streams := []<-chan recv{subscribe("ns1"), subscribe("ns2"), subscribe("ns3")}
	for i, ch := range streams {
		next(fmt.Sprint("ns", i+1), ch)
	}

	h.obs.setHealth(map[string]compile.OriginHealth{validationtest.OriginName(0): {Healthy: false, Reason: "down at 2 of 2 reporting PoPs"}}, nil)
	var first *v1.GslbSnapshot
	for i, ch := range streams {
		name := fmt.Sprint("ns", i+1)
		snap := next(name, ch)
		if snap.GetOrigins()[0].GetHealthy() {
			t.Fatalf("%s: sent origin %s healthy after the verdict went down", name, snap.GetOrigins()[0].GetName())
		}
		if first == nil {
			first = snap
			continue
		}
		if !proto.Equal(snap, first) {
			t.Errorf("%s was sent a snapshot compiled at %s, ns1 one compiled at %s: one change, compiled once, is one snapshot",
				name, snap.GetCompiledAt().AsTime().Format(time.RFC3339Nano), first.GetCompiledAt().AsTime().Format(time.RFC3339Nano))
		}
	}

	// An anycast service is not in the snapshot at all.
	resp, err := h.st.Apply(ctx, []*v1.Object{resource.Wrap(validationtest.Service(0))}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	rev := resp.GetRevision()
	if err := h.cache.WaitRevision(ctx, rev); err != nil {
		t.Fatal(err)
	}
	late := next("ns4", subscribe("ns4"))
	if late.GetRevision() != rev {
		t.Errorf("a DNS server subscribing after the write at revision %d was sent revision %d", rev, late.GetRevision())
	}
	h.obs.setHealth(nil, nil)
	for i, ch := range streams {
		name := fmt.Sprint("ns", i+1)
		if snap := next(name, ch); !snap.GetOrigins()[0].GetHealthy() || snap.GetRevision() != rev {
			t.Errorf("%s: after the write and the verdict's end, sent revision %d with origin healthy %v; want revision %d healthy (and nothing between)",
				name, snap.GetRevision(), snap.GetOrigins()[0].GetHealthy(), rev)
		}
	}
}

// TestFeedIgnoresWhyAHealthyOriginIsUp changes only why an origin is up
// (a PoP alone seeing it down, one more PoP reporting on it), as a flaky
// path at one PoP or an agent reconnecting does all day: DNS servers read
// a reason only for an unhealthy candidate, so the snapshot compiled for
// them must stay the one they have, not be sent again to every server (at
// 5,000 records, 0.5 MiB each, and a rebuild of every server's index).
// Nor do they get which PoPs see a down origin down: at thousands of PoPs
// that tally moves with every report while the origin is down, and it
// would send the snapshot to every server each time. They get the verdict
// and the rule that decided it; a verdict changes the snapshot.
func TestFeedIgnoresWhyAHealthyOriginIsUp(t *testing.T) {
	h := newHarness(t, resource.Wrap(validationtest.Origin(0)), resource.Wrap(validationtest.Zone(0)), resource.Wrap(validationtest.Record(0, 1, 1)))
	h.runCache()
	awaitClosed(t, "the desired state loaded", h.cache.Ready())
	g := &gslbSnapshots{cache: h.cache, observed: h.obs}
	current := func() *sharedSnapshot {
		t.Helper()
		s, err := g.Current()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	origin := validationtest.OriginName(0)
	setReason := func(healthy bool, reason string) {
		h.obs.setHealth(map[string]compile.OriginHealth{origin: {Healthy: healthy, Reason: reason}}, nil)
	}
	first := current()
	for i, reason := range []string{
		"up at all 3 reporting PoPs",
		"up: down at only 1 of 3 reporting PoPs (tokyo), not more than 50%",
		"up at all 3 reporting PoPs",
		"up at all 4 reporting PoPs",
	} {
		setReason(true, reason)
		if got := current(); got.content != first.content {
			t.Fatalf("change %d, %q: the snapshot for DNS servers changed (content %d, was %d)", i, reason, got.content, first.content)
		}
	}
	setDown := func(reason string) {
		h.obs.setHealth(map[string]compile.OriginHealth{origin: {Reason: reason, Verdict: "down at more than 50% of reporting PoPs"}}, nil)
	}
	setDown("down at 2 of 3 reporting PoPs (london, tokyo): more than 50%")
	down := current()
	if down.content == first.content {
		t.Fatal("the verdict went down and the snapshot for DNS servers stayed")
	}
	if got := down.snap.GetOrigins()[0].GetHealthReason(); got != "down at more than 50% of reporting PoPs" {
		t.Errorf("the down origin's reason for DNS servers is %q, want the verdict's rule", got)
	}
	setDown("down at 3 of 3 reporting PoPs (london, newyork, tokyo): more than 50%")
	if got := current(); got.content != down.content {
		t.Fatalf("only who sees the origin down changed, and the snapshot for DNS servers changed: %v", got.snap.GetOrigins()[0])
	}
	setReason(true, "up at all 3 reporting PoPs")
	if got := current(); got.content == down.content {
		t.Fatal("the verdict went up and the snapshot for DNS servers stayed")
	}
}
