package cli_test

import (
	"context"
	"strings"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestStatusShowsAcknowledgedRevision: agents report in full at config
// revision 2, then acknowledge revision 5 with nothing else changed (what
// every agent sends after a change, stored in the replica's held-revision
// record, not as a report): `anyctl status --pops`, `anyctl status POP`
// and `anyctl describe pop POP` show revision 5.
func TestStatusShowsAcknowledgedRevision(t *testing.T) {
	c := startWithExamples(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pops := []string{"tokyo", "london", "newyork", "saopaulo"}
	streams := map[string]v1.AgentService_ConnectClient{}
	for _, pop := range pops {
		s, err := v1.NewAgentServiceClient(c.Conn).Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: &v1.AgentHello{Pop: pop}}}); err != nil {
			t.Fatal(err)
		}
		if m, err := s.Recv(); err != nil || !m.GetAcceptsRevisionOnly() {
			t.Fatalf("%s's first config: %v, %v; want one accepting revision-only reports", pop, m, err)
		}
		st := &v1.PopStatus{Pop: pop, ConfigRevision: 2, AgentVersion: "test", ReportedAt: timestamppb.Now(),
			Peers: []*v1.PeerStatus{{Address: "192.0.2.254", PeerAsn: 64500, State: "established"}}}
		if err := s.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: st}}); err != nil {
			t.Fatal(err)
		}
		streams[pop] = s
	}
	// every waits until each PoP's line of `anyctl status --pops` shows
	// config revision rev.
	every := func(rev string) string {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			out := mustAnyctl(t, c.Addr, "", "status", "--pops").stdout
			n := 0
			for line := range strings.Lines(out) {
				f := strings.Fields(line)
				for _, pop := range pops {
					if len(f) > 0 && f[0] == pop && strings.Contains(line, " "+rev+" ") {
						n++
					}
				}
			}
			if n == len(pops) {
				return out
			}
			if time.Now().After(deadline) {
				t.Fatalf("after a minute, %d of %d PoPs show %s:\n%s", n, len(pops), rev, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	every("r2")
	for _, pop := range pops {
		ack := &v1.ConnectRequest{Msg: &v1.ConnectRequest_Unchanged{Unchanged: &v1.StatusUnchanged{ConfigRevision: 5}}}
		if err := streams[pop].Send(ack); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("anyctl status --pops:\n%s", every("r5"))
	out := mustAnyctl(t, c.Addr, "", "status", "tokyo").stdout
	if !strings.Contains(out, "\ntokyo ") || !strings.Contains(out[strings.Index(out, "\ntokyo "):], " r5 ") {
		t.Fatalf("anyctl status tokyo:\n%s\nwant config revision r5", out)
	}
	out = mustAnyctl(t, c.Addr, "", "describe", "pop", "tokyo").stdout
	if !strings.Contains(out, "version test, config revision r5, last report") {
		t.Fatalf("anyctl describe pop tokyo:\n%s\nwant config revision r5", out)
	}
}
