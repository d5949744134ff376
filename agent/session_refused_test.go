package agent

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controlconn"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestSecondAgentForPopSaysWhyAndTakesOver: a second agent for a PoP that
// has a live one logs the controller's refusal, keeps retrying, and
// connects once the first goes away.
func TestSecondAgentForPopSaysWhyAndTakesOver(t *testing.T) {
	ctl := controllertest.StartAt(t, t.TempDir(), nil)
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ctl.Admin.Apply(context.Background(), &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatal(err)
	}
	start := func(ctx context.Context, log *slog.Logger) <-chan bool {
		connected := make(chan bool, 16)
		configs := make(chan *v1.PopConfig, 1)
		s := &session{controllers: controlconn.NewRotation([]string{ctl.Addr}), pop: "tokyo", log: log, revision: new(atomic.Int64),
			configs: configs, connected: connected, reports: make(chan *v1.PopStatus, 1)}
		go func() {
			for {
				select {
				case <-configs:
				case <-ctx.Done():
					return
				}
			}
		}()
		go s.run(ctx)
		return connected
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	firstCtx, stopFirst := context.WithCancel(ctx)
	defer stopFirst()
	if !<-start(firstCtx, slog.New(slog.NewTextHandler(io.Discard, nil))) {
		t.Fatal("the first agent did not connect")
	}

	var logs syncBuffer
	second := start(ctx, slog.New(slog.NewTextHandler(&logs, nil)))
	want := `PoP \"tokyo\" already has a live agent (from `
	for !strings.Contains(logs.String(), "controller refused this agent") || !strings.Contains(logs.String(), want) {
		select {
		case up := <-second:
			if up {
				t.Fatal("the second agent for tokyo connected while the first was live")
			}
		case <-ctx.Done():
			t.Fatalf("the second agent did not log the refusal; its log:\n%s", logs.String())
		case <-time.After(10 * time.Millisecond):
		}
	}

	stopFirst()
	for up := false; !up; {
		select {
		case up = <-second:
		case <-ctx.Done():
			t.Fatalf("the second agent did not take over; its log:\n%s", logs.String())
		}
	}
}
