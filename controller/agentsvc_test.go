package controller_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/compile"
	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// startWithExamples runs a controller with the example deployment applied,
// once it leads: its election writes land before the test's.
func startWithExamples(t *testing.T, tweak func(*controller.Config)) *controllertest.Running {
	t.Helper()
	r := controllertest.StartAt(t, t.TempDir(), tweak)
	r.WaitLeading(t)
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Admin.Apply(context.Background(), &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatalf("applying examples: %v", err)
	}
	return r
}

// await polls cond every 10ms for up to 20s.
func await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// addToEdgeHTTP adds pop to the example edge-http service's PoPs: a
// change to pop's config.
func addToEdgeHTTP(t *testing.T, ctx context.Context, r *controllertest.Running, pop string) {
	t.Helper()
	obj, err := r.Admin.Get(ctx, &v1.GetRequest{Kind: v1.Kind_KIND_ANYCAST_SERVICE, Name: "edge-http"})
	if err != nil {
		t.Fatal(err)
	}
	svc := obj.GetObject().GetAnycastService()
	svc.Spec.Pops.Names = append(svc.Spec.Pops.Names, pop)
	if _, err := r.Admin.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{resource.Wrap(svc)}}); err != nil {
		t.Fatal(err)
	}
}

// agentStream opens an Agent API stream for pop and returns it after the
// first config arrives.
func agentStream(t *testing.T, ctx context.Context, r *controllertest.Running, pop string) (v1.AgentService_ConnectClient, *v1.PopConfig) {
	t.Helper()
	stream, err := v1.NewAgentServiceClient(r.Conn).Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: &v1.AgentHello{Pop: pop}}}); err != nil {
		t.Fatal(err)
	}
	msg, err := stream.Recv()
	if err != nil {
		t.Fatalf("first config for %s: %v", pop, err)
	}
	return stream, msg.GetConfig()
}

func TestAgentStreamSendsConfigThenChanges(t *testing.T) {
	r := startWithExamples(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, cfg := agentStream(t, ctx, r, "saopaulo")
	if cfg.GetPop() != "saopaulo" || len(cfg.GetServices()) != 1 || cfg.GetServices()[0].GetName() != "edge-dns" {
		t.Fatalf("saopaulo config: want only edge-dns, got %v", cfg.GetServices())
	}

	// Add saopaulo to edge-http: the stream carries the new config.
	addToEdgeHTTP(t, ctx, r, "saopaulo")
	msg, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(msg.GetConfig().GetServices()); got != 2 {
		t.Fatalf("after adding saopaulo to edge-http: %d services, want 2", got)
	}
	if msg.GetConfig().GetRevision() <= cfg.GetRevision() {
		t.Errorf("new config revision %d not after %d", msg.GetConfig().GetRevision(), cfg.GetRevision())
	}
}

// TestAgentStreamGetsTheCompiledConfig: what an agent decodes from its
// stream is its PoP's config as compile.PopConfig compiles it, at the
// revision the stream names.
func TestAgentStreamGetsTheCompiledConfig(t *testing.T) {
	r := startWithExamples(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	s := resource.NewState(objs...)
	for _, pop := range resource.SortedNames(s.Pops) {
		_, got := agentStream(t, ctx, r, pop)
		s.Revision = got.GetRevision()
		want, err := compile.PopConfig(s, pop, compile.Observed{})
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, want) {
			t.Errorf("PoP %q: the agent got\n%v\nwant\n%v", pop, got, want)
		}
	}
}

func TestAgentMayReportOnlyForItsOwnPop(t *testing.T) {
	r := startWithExamples(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, _ := agentStream(t, ctx, r, "tokyo")
	if err := stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: &v1.PopStatus{Pop: "london"}}}); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := stream.Recv()
		if err == nil {
			continue
		}
		if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), `agent of PoP "tokyo" may not report for PoP "london"`) {
			t.Fatalf("got %v, want PermissionDenied naming both PoPs", err)
		}
		break
	}
	resp, err := r.Admin.Status(ctx, &v1.StatusRequest{Pop: "london"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetPops()[0].GetStatus() != nil {
		t.Error("london has a status after tokyo's agent tried to report for it")
	}
}

func TestUnknownPopIsRefused(t *testing.T) {
	r := startWithExamples(t, nil)
	stream, err := v1.NewAgentServiceClient(r.Conn).Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: &v1.AgentHello{Pop: "atlantis"}}})
	if _, err := stream.Recv(); status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), `"atlantis"`) {
		t.Fatalf("got %v, want NotFound naming the PoP", err)
	}
}

func TestStatusExpiresWhenAgentGoesSilent(t *testing.T) {
	r := startWithExamples(t, func(c *controller.Config) { c.StatusTTL = 2 * time.Second })
	ctx, cancel := context.WithCancel(context.Background())
	stream, _ := agentStream(t, ctx, r, "tokyo")
	stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: &v1.PopStatus{Pop: "tokyo", ReportedAt: timestamppb.Now()}}})
	hasStatus := func() bool {
		resp, err := r.Admin.Status(context.Background(), &v1.StatusRequest{Pop: "tokyo"})
		return err == nil && resp.GetPops()[0].GetStatus() != nil
	}
	await(t, "tokyo's report stored", hasStatus)
	cancel() // the agent vanishes
	await(t, "tokyo's report expiring with its lease", func() bool { return !hasStatus() })
}

// report sends a status with origin probe results.
func report(t *testing.T, stream v1.AgentService_ConnectClient, pop string, up map[string]bool) {
	t.Helper()
	st := &v1.PopStatus{Pop: pop, ReportedAt: timestamppb.Now()}
	for origin, ok := range up {
		r := &v1.OriginProbeResult{Origin: origin, Healthy: ok}
		if ok {
			r.Rtt = durationpb.New(20 * time.Millisecond)
		}
		st.OriginProbes = append(st.OriginProbes, r)
	}
	if err := stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: st}}); err != nil {
		t.Fatal(err)
	}
}

func TestOriginHealthIsDecidedByQuorumAndFedToDNS(t *testing.T) {
	r := startWithExamples(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	feed, err := v1.NewGslbFeedServiceClient(r.Conn).Subscribe(ctx, &v1.SubscribeRequest{ServerName: "test"})
	if err != nil {
		t.Fatal(err)
	}
	snaps := make(chan *v1.GslbSnapshot, 100)
	go func() {
		for {
			m, err := feed.Recv()
			if err != nil {
				close(snaps)
				return
			}
			snaps <- m.GetSnapshot()
		}
	}()
	var last *v1.GslbSnapshot
	euWest := func() *v1.SnapshotOrigin {
		for _, o := range last.GetOrigins() {
			if o.GetName() == "eu-west" {
				return o
			}
		}
		return nil
	}
	awaitSnap := func(what string, ok func() bool) {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for last == nil || !ok() {
			select {
			case s, open := <-snaps:
				if !open {
					t.Fatalf("feed closed waiting for %s", what)
				}
				last = s
			case <-timeout:
				t.Fatalf("timed out waiting for %s; last eu-west: %v", what, euWest())
			}
		}
	}
	awaitSnap("first snapshot", func() bool { return euWest() != nil })

	pops := []string{"tokyo", "london", "newyork"}
	streams := map[string]v1.AgentService_ConnectClient{}
	for _, p := range pops {
		streams[p], _ = agentStream(t, ctx, r, p)
		report(t, streams[p], p, map[string]bool{"eu-west": true, "us-east": true})
	}
	awaitSnap("RTTs from three PoPs", func() bool {
		n := 0
		for _, p := range last.GetPops() {
			if p.GetRtt()["eu-west"] != nil {
				n++
			}
		}
		return n == 3
	})

	// One PoP alone sees eu-west down: nothing changes.
	report(t, streams["london"], "london", map[string]bool{"eu-west": false, "us-east": true})
	// Why eu-west is up is not sent (DNS servers read no reason of a
	// healthy origin); london's RTT to it going says the report counted.
	awaitSnap("london's view counted", func() bool {
		for _, p := range last.GetPops() {
			if p.GetName() == "london" {
				return p.GetRtt()["eu-west"] == nil
			}
		}
		return false
	})
	if !euWest().GetHealthy() {
		t.Fatalf("one PoP took eu-west out: %v", euWest())
	}
	// A second one: the quorum calls it down.
	report(t, streams["tokyo"], "tokyo", map[string]bool{"eu-west": false, "us-east": true})
	awaitSnap("eu-west down by quorum", func() bool { return !euWest().GetHealthy() })
	t.Logf("eu-west: %s", euWest().GetHealthReason())
	// Both recover: healthy again.
	report(t, streams["london"], "london", map[string]bool{"eu-west": true, "us-east": true})
	report(t, streams["tokyo"], "tokyo", map[string]bool{"eu-west": true, "us-east": true})
	awaitSnap("eu-west healthy again", func() bool { return euWest().GetHealthy() && euWest().GetHealthReason() == "" })
}
