package controller_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestSecondAgentThroughAnotherReplicaIsRefused runs two controller
// replicas on one etcd: an agent for a PoP live on one refuses a second
// agent for the PoP on the other, which says so, and both replicas' status
// shows the refusal; once the first goes, the second may connect.
func TestSecondAgentThroughAnotherReplicaIsRefused(t *testing.T) {
	srv := etcdembedtest.StartServer(t, filepath.Join(t.TempDir(), "etcd"))
	ext := func(c *controller.Config) { c.EtcdEndpoints = srv.Endpoints() }
	a := controllertest.StartAt(t, "", ext)
	b := controllertest.StartAt(t, "", ext)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatal(err)
	}
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
