package controller_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/etcdembed"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	"github.com/anyctl/anyctl/controller/store"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// twoReplicasWithExamples starts an etcd and two controller replicas on it,
// each with tweak (if not nil) applied to its config, and applies the
// examples through the first.
func twoReplicasWithExamples(t *testing.T, tweak func(*controller.Config)) (srv *etcdembed.Server, a, b *controllertest.Running) {
	t.Helper()
	srv = etcdembedtest.StartServer(t, filepath.Join(t.TempDir(), "etcd"))
	ext := func(c *controller.Config) {
		c.EtcdEndpoints = srv.Endpoints()
		if tweak != nil {
			tweak(c)
		}
	}
	a = controllertest.StartAt(t, "", ext)
	b = controllertest.StartAt(t, "", ext)
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Admin.Apply(context.Background(), &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatal(err)
	}
	return srv, a, b
}

// TestSecondAgentThroughAnotherReplicaIsRefused runs two controller
// replicas on one etcd: an agent for a PoP live on one refuses a second
// agent for the PoP on the other, which says so, and both replicas' status
// shows the refusal; once the first goes, the second may connect.
func TestSecondAgentThroughAnotherReplicaIsRefused(t *testing.T) {
	_, a, b := twoReplicasWithExamples(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	await(t, "replica b to hold the examples", func() bool {
		_, err := b.Admin.Get(ctx, &v1.GetRequest{Kind: v1.Kind_KIND_POP, Name: "saopaulo"})
		return err == nil
	})

	firstCtx, stopFirst := context.WithCancel(ctx)
	defer stopFirst()
	agentStream(t, firstCtx, a, "saopaulo")

	second, err := v1.NewAgentServiceClient(b.Conn).Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: &v1.AgentHello{Pop: "saopaulo"}}})
	_, err = second.Recv()
	t.Logf("second agent, through replica b: %v", err)
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), `PoP "saopaulo" already has a live agent (from 127.0.0.1:`) ||
		!strings.Contains(err.Error(), "through controller ") || !strings.Contains(err.Error(), a.Addr) {
		t.Fatalf("second agent for saopaulo through replica b: got %v, want FailedPrecondition naming the live agent and replica a (%s)", err, a.Addr)
	}

	for name, r := range map[string]*controllertest.Running{"a": a, "b": b} {
		// A replica's status reads its own copy of the state, which may
		// trail the store a moment.
		var resp *v1.StatusResponse
		await(t, "replica "+name+"'s status to know saopaulo", func() bool {
			resp, err = r.Admin.Status(ctx, &v1.StatusRequest{Pop: "saopaulo"})
			return status.Code(err) != codes.NotFound
		})
		if err != nil {
			t.Fatal(err)
		}
		ref := resp.GetPops()[0].GetRefusedAgent()
		if ref == nil || !strings.HasPrefix(ref.GetAddress(), "127.0.0.1:") || !strings.HasPrefix(ref.GetLiveAgentAddress(), "127.0.0.1:") ||
			ref.GetAt() == nil || ref.GetLiveAgentSince() == nil || !strings.Contains(ref.GetController(), b.Addr) {
			t.Errorf("status through replica %s: refused agent %v; want the refused agent, the live one, when, and replica b (%s)", name, ref, b.Addr)
		}
	}

	stopFirst()
	await(t, "a new agent for saopaulo to be accepted through replica b", func() bool {
		s, err := v1.NewAgentServiceClient(b.Conn).Connect(ctx)
		if err != nil {
			return false
		}
		s.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: &v1.AgentHello{Pop: "saopaulo"}}})
		m, err := s.Recv()
		return err == nil && m.GetConfig().GetPop() == "saopaulo"
	})
}

// TestAgentOfDeadReplicaIsServedOnceItsClaimGoes runs a replica on an
// etcd that holds the PoPs' claims of another replica that died without
// cleaning up: its lease is left to expire, nobody keeping it alive. The
// agent that moves here with the instance that claim names takes it over
// at once; an agent of another instance (a restart) waits for the claim
// to expire and is then served, neither being refused meanwhile. A live
// replica's claim still refuses a second agent (see
// TestSecondAgentThroughAnotherReplicaIsRefused).
func TestAgentOfDeadReplicaIsServedOnceItsClaimGoes(t *testing.T) {
	srv := etcdembedtest.StartServer(t, filepath.Join(t.TempDir(), "etcd"))
	b := controllertest.StartAt(t, "", func(c *controller.Config) { c.EtcdEndpoints = srv.Endpoints() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatal(err)
	}

	// The dead replica: its claims, under a lease whose keepalive stopped
	// without a revoke, as a killed process leaves them.
	dead := store.New(etcdembedtest.Client(t, srv), slog.Default())
	lease := dead.ReplicaLease(3 * time.Second)
	for pop, instance := range map[string]string{"saopaulo": "run-1", "tokyo": "run-old"} {
		c := store.AgentClaim{Addr: "192.0.2.1:4000", Since: time.Now(), Controller: "dead-replica:9000", Instance: instance}
		if _, _, live, err := dead.ClaimAgent(ctx, pop, c, lease); err != nil || live != nil {
			t.Fatalf("dead replica's claim of %s: live %v, err %v", pop, live, err)
		}
	}
	lease.Close()

	connect := func(pop, instance string) (*v1.PopConfig, error) {
		s, err := v1.NewAgentServiceClient(b.Conn).Connect(ctx)
		if err != nil {
			return nil, err
		}
		s.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: &v1.AgentHello{Pop: pop, Instance: instance}}})
		m, err := s.Recv()
		return m.GetConfig(), err
	}
	// The same agent moving: its instance is the claim's.
	cfg, err := connect("saopaulo", "run-1")
	if err != nil || cfg.GetPop() != "saopaulo" {
		t.Fatalf("saopaulo's agent moving from the dead replica: config %v, err %v; want its config", cfg, err)
	}
	// The agent restarted meanwhile: served once the dead claim expires.
	cfg, err = connect("tokyo", "run-2")
	if err != nil || cfg.GetPop() != "tokyo" {
		t.Fatalf("tokyo's restarted agent: config %v, err %v; want its config once the dead replica's claim expired", cfg, err)
	}
	// Both claims now name replica b: a second agent is refused by it.
	_, err = connect("tokyo", "run-3")
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), `PoP "tokyo" already has a live agent (from 127.0.0.1:`) {
		t.Fatalf("second agent for tokyo: got %v, want FailedPrecondition naming the live agent", err)
	}
}

// TestAgentBackOnANewStreamReplacesItsOldOne: an agent whose stream broke
// without the controller noticing comes back on a new stream, naming the
// same instance: the new stream is served and the old one ended, where an
// agent of another instance is refused.
func TestAgentBackOnANewStreamReplacesItsOldOne(t *testing.T) {
	r := startWithExamples(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hello := func(instance string) (v1.AgentService_ConnectClient, *v1.PopConfig, error) {
		s, err := v1.NewAgentServiceClient(r.Conn).Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: &v1.AgentHello{Pop: "london", Instance: instance}}})
		m, err := s.Recv()
		return s, m.GetConfig(), err
	}
	old, _, err := hello("run-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := hello("run-2"); status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), `PoP "london" already has a live agent`) {
		t.Fatalf("an agent of another instance: got %v, want it refused as a second agent", err)
	}
	if _, cfg, err := hello("run-1"); err != nil || cfg.GetPop() != "london" {
		t.Fatalf("the agent back on a new stream: config %v, err %v; want its config", cfg, err)
	}
	for {
		if _, err := old.Recv(); err != nil {
			if status.Code(err) != codes.Aborted || !strings.Contains(err.Error(), `agent stream of PoP "london" replaced`) {
				t.Fatalf("the old stream ended with %v; want Aborted saying it was replaced", err)
			}
			break
		}
	}
}
