package agent

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controlconn"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc"
)

// recordingController is an Agent service that sends one config, saying
// whether it accepts unchanged reports, and passes on what the agent sends.
type recordingController struct {
	v1.UnimplementedAgentServiceServer
	accepts bool
	// acceptsRevision says it also accepts one naming a config revision.
	acceptsRevision bool
	got             chan *v1.ConnectRequest
}

func (c *recordingController) Connect(stream v1.AgentService_ConnectServer) error {
	if _, err := stream.Recv(); err != nil {
		return err
	}
	if err := stream.Send(&v1.ConnectResponse{Msg: &v1.ConnectResponse_Config{Config: &v1.PopConfig{Pop: "tokyo", Revision: 1}},
		AcceptsUnchanged: c.accepts, AcceptsRevisionOnly: c.acceptsRevision}); err != nil {
		return err
	}
	for {
		m, err := stream.Recv()
		if err != nil {
			return err
		}
		c.got <- m
	}
}

// TestSessionSendsUnchangedReportsAsSuch: to a controller that accepts it,
// a report that says what the last one sent said (its streak and time
// aside) goes as StatusUnchanged, and a changed one in full; to one that
// does not (an older controller), every report goes in full. A report
// that differs only in its config revision goes as StatusUnchanged naming
// the revision to a controller that accepts that, in full to others.
func TestSessionSendsUnchangedReportsAsSuch(t *testing.T) {
	for _, c := range []struct{ accepts, revision bool }{{true, true}, {true, false}, {false, false}} {
		accepts := c.accepts
		ctl := &recordingController{accepts: accepts, acceptsRevision: c.revision, got: make(chan *v1.ConnectRequest, 16)}
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		gs := grpc.NewServer()
		v1.RegisterAgentServiceServer(gs, ctl)
		go gs.Serve(lis)
		t.Cleanup(gs.Stop)

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		configs, connected := make(chan *v1.PopConfig, 4), make(chan bool, 4)
		s := &session{controllers: controlconn.NewRotation([]string{lis.Addr().String()}), pop: "tokyo",
			log: slog.New(slog.NewTextHandler(io.Discard, nil)), revision: new(atomic.Int64),
			configs: configs, connected: connected, reports: make(chan *v1.PopStatus, 1)}
		go s.run(ctx)
		select {
		case <-configs:
		case <-ctx.Done():
			t.Fatal("no config")
		}
		configRevision := int64(1)
		report := func(streak uint32, healthy bool) *v1.ConnectRequest {
			t.Helper()
			s.report(&v1.PopStatus{Pop: "tokyo", ConfigRevision: configRevision, Checks: []*v1.CheckStatus{{Service: "edge-dns", Healthy: healthy, Streak: streak}}})
			select {
			case m := <-ctl.got:
				return m
			case <-ctx.Done():
				t.Fatal("no report")
				return nil
			}
		}
		if m := report(1, true); m.GetStatus() == nil {
			t.Fatalf("accepts %v: first report sent as %v, want in full", accepts, m)
		}
		m := report(2, true)
		if accepts && m.GetUnchanged() == nil || !accepts && m.GetStatus().GetChecks()[0].GetStreak() != 2 {
			t.Fatalf("accepts %v: a report differing only in a check's streak sent as %v", accepts, m)
		}
		if m := report(3, false); m.GetStatus() == nil || m.GetStatus().GetChecks()[0].GetHealthy() {
			t.Fatalf("accepts %v: a changed report sent as %v, want in full", accepts, m)
		}
		configRevision = 2
		m = report(4, false)
		switch {
		case c.revision && m.GetUnchanged().GetConfigRevision() != 2:
			t.Fatalf("accepts revisions: a report at another config revision sent as %v, want unchanged naming revision 2", m)
		case !c.revision && m.GetStatus().GetConfigRevision() != 2:
			t.Fatalf("accepts %v, not revisions: a report at another config revision sent as %v, want in full", accepts, m)
		}
		if m := report(5, false); accepts && (m.GetUnchanged() == nil || m.GetUnchanged().GetConfigRevision() != 0) {
			t.Fatalf("accepts %v: the same report again at revision 2 sent as %v, want plain unchanged", accepts, m)
		}
		cancel()
	}
}
