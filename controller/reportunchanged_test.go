package controller_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

var unchanged = &v1.ConnectRequest{Msg: &v1.ConnectRequest_Unchanged{Unchanged: &v1.StatusUnchanged{}}}

// TestStatusUnchangedWritesNothing: the first config says the controller
// takes StatusUnchanged; after a report, unchanged messages move nothing
// in etcd but are counted, and a changed report after them is written
// once.
func TestStatusUnchangedWritesNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	send, first, stored, r := reportStream(t, ctx)
	if first.GetConfig() == nil || !first.GetAcceptsUnchanged() {
		t.Fatalf("first response %v: want the config, accepting unchanged reports", first)
	}
	send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: busyReport("tokyo", 0, false)}})
	await(t, "the first report stored", func() bool { st, _, _ := stored(); return st != nil })
	_, firstMod, before := stored()
	// The first report was written: every unchanged message is counted as
	// received and not stored.
	notStored := func() string {
		body := scrape(t, "http://"+r.Ctrl.MetricsAddr().String()+"/metrics")
		for line := range strings.Lines(body) {
			if v, ok := strings.CutPrefix(line, `anyctl_controller_agent_reports_total{stored="false"} `); ok {
				return strings.TrimSpace(v)
			}
		}
		return "none"
	}
	for range 50 {
		send(unchanged)
	}
	await(t, "50 unchanged reports counted", func() bool { return notStored() == "50" })
	send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: busyReport("tokyo", 1, true)}})
	await(t, "the changed report stored", func() bool { st, _, _ := stored(); return st.GetPrefixes()[0].GetAnnounced() })
	_, lastMod, after := stored()
	if after != before+1 || lastMod != after {
		t.Fatalf("50 unchanged messages and one change moved etcd from revision %d to %d (report written at %d, first at %d), want exactly one write", before, after, lastMod, firstMod)
	}
}

// TestStatusUnchangedNamingARevision: the first config says the
// controller takes StatusUnchanged naming a config revision; one stores
// the last full report at that revision, in one write, and an unchanged
// message after it writes nothing.
func TestStatusUnchangedNamingARevision(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	send, first, stored, _ := reportStream(t, ctx)
	if !first.GetAcceptsUnchanged() || !first.GetAcceptsRevisionOnly() {
		t.Fatalf("first response %v: want it to accept unchanged reports, naming a revision too", first)
	}
	full := busyReport("tokyo", 0, true)
	send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: full}})
	await(t, "the first report stored", func() bool { st, _, _ := stored(); return st != nil })
	_, _, before := stored()
	send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Unchanged{Unchanged: &v1.StatusUnchanged{ConfigRevision: 9}}})
	await(t, "the report stored at revision 9", func() bool { st, _, _ := stored(); return st.GetConfigRevision() == 9 })
	st, _, after := stored()
	want := proto.CloneOf(full)
	want.ConfigRevision = 9
	if !proto.Equal(st, want) || after != before+1 {
		t.Fatalf("stored %v in %d writes, want the full report at config revision 9 in one", st, after-before)
	}
	// The report at revision 9 is now the last full one: unchanged
	// messages, and one naming revision 9 again, write nothing.
	for range 5 {
		send(unchanged)
	}
	send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Unchanged{Unchanged: &v1.StatusUnchanged{ConfigRevision: 9}}})
	send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: busyReport("tokyo", 1, false)}})
	await(t, "the changed report stored", func() bool { st, _, _ := stored(); return !st.GetPrefixes()[0].GetAnnounced() })
	if _, _, last := stored(); last != after+1 {
		t.Fatalf("unchanged messages and one change moved etcd by %d revisions, want 1", last-after)
	}
}

// TestStatusUnchangedBringsBackASilentAgentsReport: an agent silent for
// the TTL loses its stored report; its next unchanged message stores its
// last full report again.
func TestStatusUnchangedBringsBackASilentAgentsReport(t *testing.T) {
	r := startWithExamples(t, func(c *controller.Config) { c.StatusTTL = 2 * time.Second })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, _ := agentStream(t, ctx, r, "tokyo")
	hasStatus := func() bool {
		resp, err := r.Admin.Status(context.Background(), &v1.StatusRequest{Pop: "tokyo"})
		return err == nil && resp.GetPops()[0].GetStatus() != nil
	}
	if err := stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: busyReport("tokyo", 0, true)}}); err != nil {
		t.Fatal(err)
	}
	await(t, "tokyo's report stored", hasStatus)
	await(t, "tokyo's report removed while it is silent", func() bool { return !hasStatus() })
	if err := stream.Send(unchanged); err != nil {
		t.Fatal(err)
	}
	await(t, "tokyo's report stored again after an unchanged message", hasStatus)
}

// TestStatusUnchangedBeforeAnyStatusIsRefused: an unchanged message with
// no report before it on the stream says nothing; the stream ends with
// InvalidArgument naming the PoP.
func TestStatusUnchangedBeforeAnyStatusIsRefused(t *testing.T) {
	r := startWithExamples(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, _ := agentStream(t, ctx, r, "tokyo")
	if err := stream.Send(unchanged); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := stream.Recv()
		if err == nil {
			continue
		}
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), `PoP "tokyo": a status-unchanged message before any status`) {
			t.Fatalf("got %v, want InvalidArgument naming the PoP", err)
		}
		return
	}
}

// TestAgentStreamsShareTheReplicasLease: the claims and reports of every
// agent stream of a replica are under one lease, however many agents;
// a stream that ends deletes its claim at once.
func TestAgentStreamsShareTheReplicasLease(t *testing.T) {
	r, cli := startOnExternal(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tokyoCtx, stopTokyo := context.WithCancel(ctx)
	defer stopTokyo()
	tokyo, _ := agentStream(t, tokyoCtx, r, "tokyo")
	london, _ := agentStream(t, ctx, r, "london")
	for pop, s := range map[string]v1.AgentService_ConnectClient{"tokyo": tokyo, "london": london} {
		if err := s.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: busyReport(pop, 0, true)}}); err != nil {
			t.Fatal(err)
		}
	}
	leases := func() map[string]clientv3.LeaseID {
		out := map[string]clientv3.LeaseID{}
		for _, key := range []string{store.StatusKey("tokyo"), store.StatusKey("london"), store.AgentClaimKey("tokyo"), store.AgentClaimKey("london")} {
			resp, err := cli.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Kvs) == 1 {
				out[key] = clientv3.LeaseID(resp.Kvs[0].Lease)
			}
		}
		return out
	}
	await(t, "both claims and reports stored", func() bool { return len(leases()) == 4 })
	got := leases()
	for _, id := range got {
		if id == 0 || id != got[store.StatusKey("tokyo")] {
			t.Fatalf("keys and their leases %v: want every one under the same lease", got)
		}
	}
	stopTokyo()
	await(t, "tokyo's claim deleted when its stream ends", func() bool {
		_, held := leases()[store.AgentClaimKey("tokyo")]
		return !held
	})
	if _, ok := leases()[store.AgentClaimKey("london")]; !ok {
		t.Fatal("london's claim went with tokyo's stream")
	}
}

// reportStream opens tokyo's agent stream on a controller over an
// external etcd and returns a sender, the first response and a reader of
// tokyo's stored report (nil when none) with its modification revision
// and etcd's revision.
func reportStream(t *testing.T, ctx context.Context) (send func(*v1.ConnectRequest), first *v1.ConnectResponse, stored func() (*v1.PopStatus, int64, int64), r *controllertest.Running) {
	t.Helper()
	r, cli := startOnExternal(t, nil)
	stream, err := v1.NewAgentServiceClient(r.Conn).Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	send = func(m *v1.ConnectRequest) {
		t.Helper()
		if err := stream.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: &v1.AgentHello{Pop: "tokyo"}}})
	if first, err = stream.Recv(); err != nil {
		t.Fatal(err)
	}
	stored = func() (*v1.PopStatus, int64, int64) {
		resp, err := cli.Get(ctx, store.StatusKey("tokyo"))
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Kvs) == 0 {
			return nil, 0, resp.Header.Revision
		}
		st := &v1.PopStatus{}
		if err := proto.Unmarshal(resp.Kvs[0].Value, st); err != nil {
			t.Fatal(err)
		}
		return st, resp.Kvs[0].ModRevision, resp.Header.Revision
	}
	return send, first, stored, r
}
