package controller_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
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
	send, first, stored, r, _ := reportStream(t, ctx)
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
// controller takes StatusUnchanged naming a config revision; one leaves
// the stored report as it is and goes in the replica's held-revision
// record, one write, and the status shows the last full report at that
// revision. An unchanged message after it, or one naming the revision
// again, writes nothing; a full report after it is stored with its
// revision, and the record's entry goes.
func TestStatusUnchangedNamingARevision(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	send, first, stored, r, cli := reportStream(t, ctx)
	if !first.GetAcceptsUnchanged() || !first.GetAcceptsRevisionOnly() {
		t.Fatalf("first response %v: want it to accept unchanged reports, naming a revision too", first)
	}
	full := busyReport("tokyo", 0, true)
	send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: full}})
	await(t, "the first report stored", func() bool { st, _, _ := stored(); return st != nil })
	_, _, before := stored()
	send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Unchanged{Unchanged: &v1.StatusUnchanged{ConfigRevision: 9}}})
	shown := func() *v1.PopStatus {
		resp, err := r.Admin.Status(ctx, &v1.StatusRequest{Pop: "tokyo"})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetPops()[0].GetStatus()
	}
	await(t, "the status to show revision 9", func() bool { return shown().GetConfigRevision() == 9 })
	await(t, "the held revision recorded", func() bool { return heldRevisions(t, cli)["tokyo"] == 9 })
	st, _, after := stored()
	want := proto.CloneOf(full)
	want.ConfigRevision = 9
	if got := shown(); !proto.Equal(got, want) {
		t.Fatalf("status shows %v, want the full report at config revision 9", got)
	}
	if !proto.Equal(st, full) || after != before+1 {
		t.Fatalf("stored %v in %d writes (%s), want the full report as it was and one write (the held revision's record)", st, after-before, writesBetween(t, cli, before, after))
	}
	// Unchanged messages, and one naming revision 9 again, write nothing;
	// a changed report at revision 9 is stored with it, and the record's
	// entry goes (the record is deleted: it has no other).
	for range 5 {
		send(unchanged)
	}
	send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Unchanged{Unchanged: &v1.StatusUnchanged{ConfigRevision: 9}}})
	changed := busyReport("tokyo", 1, false)
	changed.ConfigRevision = 9
	send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: changed}})
	await(t, "the changed report stored", func() bool { st, _, _ := stored(); return !st.GetPrefixes()[0].GetAnnounced() })
	await(t, "the held revision's entry removed", func() bool { return len(heldRevisions(t, cli)) == 0 })
	st, _, last := stored()
	if st.GetConfigRevision() != 9 || last != after+2 {
		t.Fatalf("stored revision %d; unchanged messages, one change and the record's removal moved etcd by %d revisions, want revision 9 and 2", st.GetConfigRevision(), last-after)
	}
	if got := shown(); got.GetConfigRevision() != 9 || got.GetPrefixes()[0].GetAnnounced() {
		t.Fatalf("status shows %v, want the changed report at revision 9", got)
	}
}

// heldRevisions reads every replica's held-revision record: each PoP's
// highest revision.
// writesBetween names the keys written after revision from, up to to.
func writesBetween(t *testing.T, cli *clientv3.Client, from, to int64) string {
	resp, err := cli.Get(context.Background(), "", clientv3.WithFromKey(), clientv3.WithKeysOnly(), clientv3.WithMinModRev(from+1), clientv3.WithMaxModRev(to))
	if err != nil {
		return err.Error()
	}
	var keys []string
	for _, kv := range resp.Kvs {
		keys = append(keys, fmt.Sprintf("%s@%d", kv.Key, kv.ModRevision))
	}
	return fmt.Sprintf("keys written: %v", keys)
}

func heldRevisions(t *testing.T, cli *clientv3.Client) map[string]int64 {
	t.Helper()
	resp, err := cli.Get(context.Background(), store.HeldPrefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, kv := range resp.Kvs {
		rec := &v1.HeldRevisions{}
		if err := proto.Unmarshal(kv.Value, rec); err != nil {
			t.Fatal(err)
		}
		for _, r := range rec.GetRevisions() {
			for _, pop := range r.GetPops() {
				out[pop] = max(out[pop], r.GetRevision())
			}
		}
	}
	return out
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
// and etcd's revision, the controller and a client of the etcd.
func reportStream(t *testing.T, ctx context.Context) (send func(*v1.ConnectRequest), first *v1.ConnectResponse, stored func() (*v1.PopStatus, int64, int64), r *controllertest.Running, cli *clientv3.Client) {
	t.Helper()
	r, cli = startOnExternal(t, nil)
	// The replica's campaign for leader is a write of its own: made
	// before the tests count the writes a report makes.
	await(t, "the replica to stand for leader", func() bool {
		resp, err := cli.Get(ctx, store.ElectionPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
		return err == nil && resp.Count > 0
	})
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
	return send, first, stored, r, cli
}

// TestHeldRevisionsAcrossReplicas runs two replicas on one etcd. An
// acknowledgement on one replica shows on the other (it reads the first's
// held-revision record). When the PoP moves to the other replica, whose
// agent's first report there is a full one, the first's entry goes and the
// PoP shows its stored report's revision. When a replica dies, its record
// goes with its lease.
func TestHeldRevisionsAcrossReplicas(t *testing.T) {
	srv, a, b := twoReplicasWithExamples(t, func(c *controller.Config) { c.StatusTTL = 2 * time.Second })
	cli := etcdembedtest.Client(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	shown := func(r *controllertest.Running, pop string) *v1.PopStatus {
		resp, err := r.Admin.Status(ctx, &v1.StatusRequest{Pop: pop})
		if err != nil {
			return nil
		}
		return resp.GetPops()[0].GetStatus()
	}
	send := func(s v1.AgentService_ConnectClient, m *v1.ConnectRequest) {
		t.Helper()
		if err := s.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	ack9 := &v1.ConnectRequest{Msg: &v1.ConnectRequest_Unchanged{Unchanged: &v1.StatusUnchanged{ConfigRevision: 9}}}

	tokyoCtx, endTokyo := context.WithCancel(ctx)
	defer endTokyo()
	tokyo, _ := agentStream(t, tokyoCtx, a, "tokyo")
	send(tokyo, &v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: busyReport("tokyo", 0, true)}})
	await(t, "tokyo's report shown by replica b", func() bool { return shown(b, "tokyo").GetConfigRevision() == 7 })
	send(tokyo, ack9)
	for name, r := range map[string]*controllertest.Running{"a": a, "b": b} {
		await(t, "replica "+name+" to show tokyo at revision 9", func() bool { return shown(r, "tokyo").GetConfigRevision() == 9 })
	}

	// tokyo moves to replica b: its first report there is a full one, at
	// revision 8 here; once a's entry goes, 8 is what shows.
	endTokyo()
	var moved v1.AgentService_ConnectClient
	await(t, "tokyo's agent accepted by replica b", func() bool {
		s, err := v1.NewAgentServiceClient(b.Conn).Connect(ctx)
		if err != nil {
			return false
		}
		s.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: &v1.AgentHello{Pop: "tokyo"}}})
		m, err := s.Recv()
		if err == nil && m.GetConfig().GetPop() == "tokyo" {
			moved = s
			return true
		}
		return false
	})
	full8 := busyReport("tokyo", 1, false)
	full8.ConfigRevision = 8
	send(moved, &v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: full8}})
	// It keeps reporting, unchanged, or its report goes after the TTL.
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() {
		for moved.Send(unchanged) == nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(300 * time.Millisecond):
			}
		}
	})
	await(t, "a's entry for tokyo to go", func() bool { _, ok := heldRevisions(t, cli)["tokyo"]; return !ok })
	for name, r := range map[string]*controllertest.Running{"a": a, "b": b} {
		await(t, "replica "+name+" to show tokyo's stored report at revision 8", func() bool {
			st := shown(r, "tokyo")
			return st.GetConfigRevision() == 8 && !st.GetPrefixes()[0].GetAnnounced()
		})
	}

	// Replica a dies (no revoke: its lease is left to expire): its record
	// goes with the lease, and so does london's report.
	london, _ := agentStream(t, ctx, a, "london")
	send(london, &v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: busyReport("london", 0, true)}})
	await(t, "london's report shown by replica b", func() bool { return shown(b, "london").GetConfigRevision() == 7 })
	send(london, ack9)
	await(t, "replica b to show london at revision 9", func() bool { return shown(b, "london").GetConfigRevision() == 9 })
	if held := heldRevisions(t, cli); held["london"] != 9 || len(held) != 1 {
		t.Fatalf("held revisions %v, want london at 9 alone", held)
	}
	a.Stop(t)
	await(t, "replica a's record gone with its lease", func() bool {
		resp, err := cli.Get(ctx, store.HeldPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
		return err == nil && resp.Count == 0
	})
	await(t, "replica b to show no report of london", func() bool { return shown(b, "london") == nil })
	if st := shown(b, "tokyo"); st.GetConfigRevision() != 8 {
		t.Fatalf("replica b shows tokyo %v, want its report at revision 8", st)
	}
}

// TestConsoleShowsAcknowledgedRevision: the web console's view, streamed
// to its pages, shows the config revision an agent acknowledged after its
// last full report, pushed when the acknowledgement is recorded.
func TestConsoleShowsAcknowledgedRevision(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	consoleAddr := l.Addr().String()
	l.Close()
	r := startWithExamples(t, func(c *controller.Config) { c.ConsoleListen = consoleAddr })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, _ := agentStream(t, ctx, r, "tokyo")
	if err := stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: busyReport("tokyo", 0, true)}}); err != nil {
		t.Fatal(err)
	}
	await(t, "tokyo's report stored", func() bool {
		resp, err := r.Admin.Status(ctx, &v1.StatusRequest{Pop: "tokyo"})
		return err == nil && resp.GetPops()[0].GetStatus().GetConfigRevision() == 7
	})

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+consoleAddr+"/api/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	views := make(chan map[string]int64)
	go func() {
		defer close(views)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var v struct {
				Pops []struct {
					Name           string `json:"name"`
					ConfigRevision int64  `json:"configRevision"`
				} `json:"pops"`
			}
			if err := json.Unmarshal([]byte(data), &v); err != nil {
				t.Errorf("console view: %v", err)
				return
			}
			revs := map[string]int64{}
			for _, p := range v.Pops {
				revs[p.Name] = p.ConfigRevision
			}
			select {
			case views <- revs:
			case <-ctx.Done():
				return
			}
		}
	}()
	next := func() map[string]int64 {
		t.Helper()
		select {
		case v, ok := <-views:
			if !ok {
				t.Fatal("the console's stream ended")
			}
			return v
		case <-time.After(time.Minute):
			t.Fatal("no console view within a minute")
		}
		return nil
	}
	for v := next(); v["tokyo"] != 7; v = next() {
		t.Logf("console view with tokyo at %d", v["tokyo"])
	}
	if err := stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Unchanged{Unchanged: &v1.StatusUnchanged{ConfigRevision: 9}}}); err != nil {
		t.Fatal(err)
	}
	for v := next(); v["tokyo"] != 9; v = next() {
		t.Logf("console view with tokyo at %d", v["tokyo"])
	}
}
