package controller_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	"github.com/anyctl/anyctl/controller/store"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation/validationtest"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// startOnExternal runs a controller with the examples applied on an etcd
// the test holds a client of.
func startOnExternal(t *testing.T, tweak func(*controller.Config)) (*controllertest.Running, *clientv3.Client) {
	t.Helper()
	srv := etcdembedtest.StartServer(t, filepath.Join(t.TempDir(), "etcd"))
	r := controllertest.StartAt(t, "", func(c *controller.Config) {
		c.EtcdEndpoints = srv.Endpoints()
		if tweak != nil {
			tweak(c)
		}
	})
	// Its election writes land before the test's, not among them.
	r.WaitLeading(t)
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Admin.Apply(context.Background(), &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatalf("applying examples: %v", err)
	}
	return r, etcdembedtest.Client(t, srv)
}

// busyReport is a report with a peer, a prefix, a check and an origin
// probe; i moves what changes on every report without meaning anything:
// the time, the check's streak and probe duration, hold-down left, and the
// RTT within its rounding.
func busyReport(pop string, i int, announced bool) *v1.PopStatus {
	return &v1.PopStatus{
		Pop: pop, ConfigRevision: 7, AgentVersion: "test", ReportedAt: timestamppb.New(time.Now().Add(time.Duration(i) * time.Second)),
		Peers:    []*v1.PeerStatus{{Address: "192.0.2.254", PeerAsn: 64500, State: "established", PrefixesSent: 1}},
		Prefixes: []*v1.PrefixStatus{{Prefix: "198.51.100.0/24", Service: "edge-dns", Announced: announced, Mode: v1.AnnounceMode_ANNOUNCE_MODE_NORMAL}},
		Checks: []*v1.CheckStatus{{Service: "edge-dns", Healthy: true, LastResult: "ok", Streak: uint32(100 + i),
			LastDuration: durationpb.New(time.Duration(1000+i) * time.Microsecond), HoldDownLeft: durationpb.New(time.Duration(i+1) * time.Second)}},
		OriginProbes: []*v1.OriginProbeResult{{Origin: "eu-west", Healthy: true, LastResult: "ok", Rtt: durationpb.New(time.Duration(20000+i) * time.Microsecond)}},
	}
}

// TestUnchangedReportsAreNotWritten sends many reports that differ only in
// what proves liveness: etcd's revision does not move, until a report that
// changes something, which is written once.
func TestUnchangedReportsAreNotWritten(t *testing.T) {
	r, cli := startOnExternal(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, _ := agentStream(t, ctx, r, "tokyo")
	send := func(st *v1.PopStatus) {
		t.Helper()
		if err := stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: st}}); err != nil {
			t.Fatal(err)
		}
	}
	stored := func() (announced bool, modRev, rev int64) {
		resp, err := cli.Get(ctx, store.StatusKey("tokyo"))
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Kvs) == 0 {
			return false, 0, resp.Header.Revision
		}
		st := &v1.PopStatus{}
		if err := proto.Unmarshal(resp.Kvs[0].Value, st); err != nil {
			t.Fatal(err)
		}
		return st.GetPrefixes()[0].GetAnnounced(), resp.Kvs[0].ModRevision, resp.Header.Revision
	}
	send(busyReport("tokyo", 0, false))
	await(t, "the first report stored", func() bool { _, m, _ := stored(); return m != 0 })
	_, firstMod, before := stored()

	const n = 50
	for i := 1; i <= n; i++ {
		send(busyReport("tokyo", i, false))
	}
	// A change after them: once it is stored, every report before it has
	// been handled (one stream is handled in order).
	send(busyReport("tokyo", n+1, true))
	await(t, "the changed report stored", func() bool { a, _, _ := stored(); return a })
	_, lastMod, after := stored()
	if after != before+1 || lastMod != after {
		// Name the keys written meanwhile, for a write that is not the
		// report's.
		var written []string
		if all, err := cli.Get(ctx, "\x00", clientv3.WithFromKey(), clientv3.WithKeysOnly()); err == nil {
			for _, kv := range all.Kvs {
				if kv.ModRevision > before {
					written = append(written, fmt.Sprintf("%s@%d", kv.Key, kv.ModRevision))
				}
			}
		}
		t.Fatalf("%d unchanged reports and one change moved etcd from revision %d to %d (report written at %d, first at %d; keys written since: %v), want exactly one write", n, before, after, lastMod, firstMod, written)
	}
	await(t, "status showing the written report", func() bool {
		resp, err := r.Admin.Status(ctx, &v1.StatusRequest{Pop: "tokyo"})
		if err != nil {
			return false
		}
		checks := resp.GetPops()[0].GetStatus().GetChecks()
		return len(checks) == 1 && checks[0].GetStreak() == 100+n+1
	})
}

// TestSilentAgentOnLiveStreamLosesItsStatus: an agent that keeps its
// stream but stops reporting shows no report after the status TTL, as its
// unchanged reports would not be written anyway; a report brings it back.
func TestSilentAgentOnLiveStreamLosesItsStatus(t *testing.T) {
	r := startWithExamples(t, func(c *controller.Config) { c.StatusTTL = 2 * time.Second })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, _ := agentStream(t, ctx, r, "tokyo")
	hasStatus := func() bool {
		resp, err := r.Admin.Status(context.Background(), &v1.StatusRequest{Pop: "tokyo"})
		return err == nil && resp.GetPops()[0].GetStatus() != nil
	}
	send := func() {
		if err := stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: busyReport("tokyo", 0, true)}}); err != nil {
			t.Fatal(err)
		}
	}
	send()
	await(t, "tokyo's report stored", hasStatus)
	await(t, "tokyo's report removed while its stream lives but it does not report", func() bool { return !hasStatus() })
	send()
	await(t, "tokyo's report stored again after it reports", hasStatus)
}

// TestStatusShowsNospaceAlarm raises etcd's NOSPACE alarm on the member
// (as etcd does when the database reaches its quota): status names it,
// writes fail, and once it is cleared status is quiet again.
func TestStatusShowsNospaceAlarm(t *testing.T) {
	r, cli := startOnExternal(t, nil)
	ctx := context.Background()
	disarm := raiseNospace(t, cli)
	resp, err := r.Admin.Status(ctx, &v1.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetStoreAlarms()) != 1 || !strings.HasPrefix(resp.GetStoreAlarms()[0], "NOSPACE on etcd member") ||
		!strings.Contains(resp.GetStoreAlarms()[0], "every write fails") {
		t.Fatalf("status store alarms %q, want NOSPACE named", resp.GetStoreAlarms())
	}
	t.Logf("status: %s", resp.GetStoreAlarms()[0])
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	p := objs[0]
	resource.EnsureMeta(p).Labels = map[string]string{"touched": "yes"}
	if _, err := r.Admin.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{p}}); err == nil {
		t.Error("an apply succeeded under NOSPACE")
	} else {
		t.Logf("apply under NOSPACE: %v", err)
	}
	disarm()
	if resp, err = r.Admin.Status(ctx, &v1.StatusRequest{}); err != nil || len(resp.GetStoreAlarms()) != 0 {
		t.Fatalf("after disarming: alarms %q, err %v", resp.GetStoreAlarms(), err)
	}
}

// TestReportWritesOfManyStreams: the changed reports of many streams are
// all stored (in shared transactions: store.StatusSession); a write that
// fails (etcd's NOSPACE alarm) is tried again by itself until the newest
// report is stored, with no further message from the agent. Every
// stream's acknowledgement of a new config revision costs a few writes of
// the replica's held-revision record, not one per stream, and the status
// shows the revision for every PoP; under NOSPACE that write fails, is
// counted and tried again. A stream that ends still has its report removed
// after the TTL while the others stay.
func TestReportWritesOfManyStreams(t *testing.T) {
	const n = 40
	r, cli := startOnExternal(t, func(c *controller.Config) { c.StatusTTL = 3 * time.Second })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var pops []*v1.Object
	for i := range n {
		pops = append(pops, resource.Wrap(validationtest.Pop(i)))
	}
	if _, err := r.Admin.Apply(ctx, &v1.ApplyRequest{Objects: pops}); err != nil {
		t.Fatal(err)
	}
	streams := make([]v1.AgentService_ConnectClient, n)
	ends := make([]context.CancelFunc, n)
	for i := range n {
		sctx, end := context.WithCancel(ctx)
		ends[i] = end
		streams[i], _ = agentStream(t, sctx, r, validationtest.PopName(i))
	}
	sendAll := func(m func(pop string) *v1.ConnectRequest) {
		t.Helper()
		for i, s := range streams {
			if err := s.Send(m(validationtest.PopName(i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	report := func(rev int64) func(string) *v1.ConnectRequest {
		return func(pop string) *v1.ConnectRequest {
			st := busyReport(pop, 0, true)
			st.ConfigRevision = rev
			return &v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: st}}
		}
	}
	// stored returns each PoP's stored config revision (0: none) and
	// etcd's revision.
	stored := func() (map[string]int64, int64) {
		resp, err := cli.Get(ctx, store.StatusPrefix, clientv3.WithPrefix())
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for _, kv := range resp.Kvs {
			st := &v1.PopStatus{}
			if err := proto.Unmarshal(kv.Value, st); err != nil {
				t.Fatal(err)
			}
			out[st.GetPop()] = st.GetConfigRevision()
		}
		return out, resp.Header.Revision
	}
	allAt := func(rev int64) func() bool {
		return func() bool {
			got, _ := stored()
			for i := range n {
				if got[validationtest.PopName(i)] != rev {
					return false
				}
			}
			return true
		}
	}

	_, before := stored()
	sendAll(report(1))
	await(t, "every stream's first report stored", allAt(1))
	_, after := stored()
	t.Logf("%d streams' first reports took %d etcd revisions", n, after-before)

	// Under NOSPACE every write fails: each stream's is tried again, and
	// the one after it takes its place.
	disarm := raiseNospace(t, cli)
	failed := reportWriteFailures(t, r)
	sendAll(report(2))
	await(t, "every stream's write of its second report failed", func() bool { return reportWriteFailures(t, r) >= failed+n })
	sendAll(report(3))
	await(t, "every stream's write of its third report failed", func() bool { return reportWriteFailures(t, r) >= failed+2*n })
	if got, _ := stored(); !allAt(1)() {
		t.Fatalf("under NOSPACE the stored reports changed: %v", got)
	}
	disarm()
	await(t, "every stream's newest report stored once etcd takes writes again", allAt(3))

	// Every agent acknowledges revision 4 (what each says after a change):
	// a few writes of the replica's held-revision record, not one per
	// stream, and the status shows revision 4 for every PoP while the
	// stored reports stay as they were.
	ack := func(rev int64) func(string) *v1.ConnectRequest {
		return func(string) *v1.ConnectRequest {
			return &v1.ConnectRequest{Msg: &v1.ConnectRequest_Unchanged{Unchanged: &v1.StatusUnchanged{ConfigRevision: rev}}}
		}
	}
	_, before = stored()
	sendAll(ack(4))
	shownAt := func(rev int64) func() bool {
		return func() bool {
			got := shownRevisions(t, r)
			for i := range n {
				if got[validationtest.PopName(i)] != rev {
					return false
				}
			}
			return true
		}
	}
	await(t, "the status to show revision 4 for every PoP", shownAt(4))
	await(t, "every PoP's revision 4 recorded", func() bool {
		held := heldRevisions(t, cli)
		for i := range n {
			if held[validationtest.PopName(i)] != 4 {
				return false
			}
		}
		return true
	})
	_, after = stored()
	t.Logf("%d streams' acknowledgements of a revision took %d etcd revisions", n, after-before)
	if after-before > 5 {
		t.Fatalf("%d streams' acknowledgements of a revision took %d etcd revisions, want a few (not one per stream)", n, after-before)
	}
	if got, _ := stored(); !allAt(3)() {
		t.Fatalf("acknowledgements changed the stored reports: %v", got)
	}
	// Under NOSPACE the record's write fails, is counted and tried again:
	// the status shows revision 4 meanwhile, and 5 once etcd takes writes.
	disarm = raiseNospace(t, cli)
	failed = reportWriteFailures(t, r)
	sendAll(ack(5))
	await(t, "the record's write failing under NOSPACE", func() bool { return reportWriteFailures(t, r) > failed })
	if !shownAt(4)() {
		t.Fatalf("under NOSPACE the status moved: %v", shownRevisions(t, r))
	}
	disarm()
	await(t, "the status to show revision 5 once etcd takes writes again", shownAt(5))

	// Stream 0 ends; the others keep reporting (unchanged).
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			for _, s := range streams[1:] {
				if s.Send(unchanged) != nil {
					return
				}
			}
			time.Sleep(500 * time.Millisecond)
		}
	})
	defer wg.Wait()
	defer cancel()
	ends[0]()
	await(t, "the ended stream's report removed", func() bool {
		got, _ := stored()
		_, ok := got[validationtest.PopName(0)]
		return !ok
	})
	if got, _ := stored(); len(got) != n-1 {
		t.Fatalf("after one stream ended, %d reports stored, want %d: %v", len(got), n-1, got)
	}
}

// shownRevisions pages through r's status: each PoP's config revision as
// shown.
func shownRevisions(t *testing.T, r *controllertest.Running) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	token := ""
	for {
		resp, err := r.Admin.Status(context.Background(), &v1.StatusRequest{Pops: true, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range resp.GetPops() {
			if e.GetStatus() != nil {
				out[e.GetPop()] = e.GetStatus().GetConfigRevision()
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			return out
		}
	}
}

// raiseNospace raises etcd's NOSPACE alarm on cli's first member, as etcd
// does when the database reaches its quota, and returns what disarms it.
func raiseNospace(t *testing.T, cli *clientv3.Client) (disarm func()) {
	t.Helper()
	ctx := context.Background()
	member, err := cli.MemberList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := member.Members[0].ID
	mc := pb.NewMaintenanceClient(cli.ActiveConnection())
	if _, err := mc.Alarm(ctx, &pb.AlarmRequest{Action: pb.AlarmRequest_ACTIVATE, MemberID: id, Alarm: pb.AlarmType_NOSPACE}); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := cli.AlarmDisarm(ctx, &clientv3.AlarmMember{MemberID: id, Alarm: pb.AlarmType_NOSPACE}); err != nil {
			t.Fatal(err)
		}
	}
}

// reportWriteFailures scrapes anyctl_controller_agent_report_write_failures_total.
func reportWriteFailures(t *testing.T, r *controllertest.Running) float64 {
	t.Helper()
	resp, err := http.Get("http://" + r.Ctrl.MetricsAddr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "anyctl_controller_agent_report_write_failures_total "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatal("no anyctl_controller_agent_report_write_failures_total in /metrics")
	return 0
}
