package controller_test

import (
	"context"
	"strings"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A second live agent for a PoP is refused, the first keeps its stream, and
// once the first goes away the second may connect.
func TestSecondLiveAgentForPopIsRefused(t *testing.T) {
	r := startWithExamples(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	firstCtx, stopFirst := context.WithCancel(ctx)
	defer stopFirst()
	first, _ := agentStream(t, firstCtx, r, "saopaulo")

	second, err := v1.NewAgentServiceClient(r.Conn).Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: &v1.AgentHello{Pop: "saopaulo"}}})
	_, err = second.Recv()
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), `PoP "saopaulo" already has a live agent (from `) ||
		!strings.Contains(err.Error(), "stop it first, or give this agent another PoP") {
		t.Fatalf("second agent for saopaulo: got %v, want FailedPrecondition naming the live agent", err)
	}

	// The first still gets changes.
	addToEdgeHTTP(t, ctx, r, "saopaulo")
	msg, err := first.Recv()
	if err != nil {
		t.Fatalf("first agent after the second was refused: %v", err)
	}
	if got := len(msg.GetConfig().GetServices()); got != 2 {
		t.Fatalf("first agent: %d services, want 2", got)
	}

	// The first goes away: the second may take over.
	stopFirst()
	await(t, "a new agent for saopaulo to be accepted", func() bool {
		s, err := v1.NewAgentServiceClient(r.Conn).Connect(ctx)
		if err != nil {
			return false
		}
		s.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: &v1.AgentHello{Pop: "saopaulo"}}})
		m, err := s.Recv()
		return err == nil && m.GetConfig().GetPop() == "saopaulo"
	})
}
