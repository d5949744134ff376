package controller_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// fleetYAML: three PoPs, one service with a minimum of two announcing PoPs,
// and a zone whose answers live for a second, so drains move quickly.
const fleetYAML = `
apiVersion: anycast.anyctl.io/v1
kind: Pop
metadata: {name: tokyo}
spec: {location: {latitude: 35.6, longitude: 139.6, country: JP, continent: AS, region: apac}, localAsn: 64512, routerId: 192.0.2.251, unicastAddresses: [192.0.2.11], peers: [{address: 198.51.100.1, peerAsn: 64500}]}
---
apiVersion: anycast.anyctl.io/v1
kind: Pop
metadata: {name: london}
spec: {location: {latitude: 51.5, longitude: -0.1, country: GB, continent: EU, region: emea}, localAsn: 64512, routerId: 192.0.2.252, unicastAddresses: [192.0.2.12], peers: [{address: 198.51.100.2, peerAsn: 64500}]}
---
apiVersion: anycast.anyctl.io/v1
kind: Pop
metadata: {name: newyork}
spec: {location: {latitude: 40.7, longitude: -74.0, country: US, continent: NA, region: americas}, localAsn: 64512, routerId: 192.0.2.253, unicastAddresses: [192.0.2.13], peers: [{address: 198.51.100.3, peerAsn: 64500}]}
---
apiVersion: anycast.anyctl.io/v1
kind: AnycastService
metadata: {name: edge}
spec:
  prefixes: [203.0.113.0/24]
  pops: {all: true}
  healthCheck: {protocol: tcp, target: ":443", interval: 100ms, timeout: 50ms, rise: 1, fall: 1}
  minAnnouncingPops: 2
---
apiVersion: anycast.anyctl.io/v1
kind: GslbZone
metadata: {name: gslb}
spec:
  zone: gslb.example.com.
  defaultTtl: 1
  soa: {mname: ns1.example.net., rname: hostmaster.example.com.}
  nameServers: [{name: ns1.example.net.}]
---
apiVersion: anycast.anyctl.io/v1
kind: GslbRecord
metadata: {name: edge-unicast}
spec: {zone: gslb, name: edge, type: a, pops: {all: true}, policy: nearest, ttl: 1}
`

func startFleet(t *testing.T) *controllertest.Running {
	t.Helper()
	return startFleetAt(t, t.TempDir())
}

// startFleetAt runs a controller on dataDir with the fleet applied, once
// it leads: its election writes land before the test's, not among them.
func startFleetAt(t *testing.T, dataDir string) *controllertest.Running {
	t.Helper()
	r := controllertest.StartAt(t, dataDir, func(c *controller.Config) { c.DrainPeriod = time.Second })
	r.WaitLeading(t)
	objs, err := manifest.Decode(strings.NewReader(fleetYAML), "fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Admin.Apply(context.Background(), &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	return r
}

// fakeAgent is a real Agent API stream whose reports the test writes, and
// which queues every config after the first.
type fakeAgent struct {
	pop     string
	stream  v1.AgentService_ConnectClient
	configs chan *v1.PopConfig
}

func connectAgent(t *testing.T, ctx context.Context, r *controllertest.Running, pop string) *fakeAgent {
	t.Helper()
	stream, _ := agentStream(t, ctx, r, pop)
	a := &fakeAgent{pop: pop, stream: stream, configs: make(chan *v1.PopConfig, 100)}
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				close(a.configs)
				return
			}
			a.configs <- m.GetConfig()
		}
	}()
	return a
}

func (a *fakeAgent) report(t *testing.T, healthy bool) {
	t.Helper()
	last := "ok"
	if !healthy {
		last = "dial tcp: connection refused"
	}
	st := &v1.PopStatus{
		Pop: a.pop, ReportedAt: timestamppb.Now(),
		Checks:   []*v1.CheckStatus{{Service: "edge", Healthy: healthy, LastResult: last}},
		Prefixes: []*v1.PrefixStatus{{Prefix: "203.0.113.0/24", Service: "edge", Announced: healthy}},
	}
	if err := a.stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: st}}); err != nil {
		t.Fatal(err)
	}
}

// awaitConfig waits for a config that satisfies ok.
func (a *fakeAgent) awaitConfig(t *testing.T, what string, ok func(*v1.ServiceAssignment) bool) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case cfg, open := <-a.configs:
			if !open {
				t.Fatalf("%s: stream closed waiting for %s", a.pop, what)
			}
			if ok(cfg.GetServices()[0]) {
				return
			}
		case <-timeout:
			t.Fatalf("%s: timed out waiting for %s", a.pop, what)
		}
	}
}

func mode(m v1.AnnounceMode) func(*v1.ServiceAssignment) bool {
	return func(a *v1.ServiceAssignment) bool { return a.GetMode() == m }
}

func popStep(t *testing.T, r *controllertest.Running, pop string) *v1.DrainState {
	t.Helper()
	resp, err := r.Admin.Status(context.Background(), &v1.StatusRequest{Pop: pop})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetPops()[0].GetDrain()
}

func TestDrainWalksTheStepsAndUndrainReversesThem(t *testing.T) {
	r := startFleet(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	agents := map[string]*fakeAgent{}
	for _, p := range []string{"tokyo", "london", "newyork"} {
		agents[p] = connectAgent(t, ctx, r, p)
		agents[p].report(t, true)
	}
	feed, err := v1.NewGslbFeedServiceClient(r.Conn).Subscribe(ctx, &v1.SubscribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	snaps := make(chan *v1.GslbSnapshot, 100)
	go func() {
		defer close(snaps)
		for {
			m, err := feed.Recv()
			if err != nil {
				return
			}
			if m.GetSnapshot() == nil {
				continue // a freshness confirmation only
			}
			snaps <- m.GetSnapshot()
		}
	}()
	// inService waits for the next snapshot and reports whether it has
	// london in service.
	inService := func() bool {
		t.Helper()
		select {
		case snap, open := <-snaps:
			if !open {
				t.Fatal("GSLB feed closed")
			}
			for _, p := range snap.GetPops() {
				if p.GetName() == "london" {
					return p.GetInService()
				}
			}
			t.Fatal("london missing from the snapshot")
		case <-time.After(20 * time.Second):
			t.Fatal("no GSLB snapshot within 20s")
		}
		return false
	}
	if !inService() {
		t.Fatal("london out of service before the drain")
	}
	await(t, "all three announcing", func() bool {
		resp, _ := r.Admin.Status(ctx, &v1.StatusRequest{})
		return resp != nil && len(resp.GetServices()[0].GetAnnouncing()) == 3
	})

	start := time.Now()
	resp, err := r.Admin.Drain(ctx, &v1.DrainRequest{Pop: "london"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetState().GetStep() != v1.DrainStep_DRAIN_STEP_GSLB {
		t.Fatalf("drain starts at %v, want the GSLB step", resp.GetState().GetStep())
	}
	// Step 1: out of GSLB answers, still announcing normally.
	if inService() {
		t.Fatal("london still in GSLB answers after the drain started")
	}
	// Step 2: GRACEFUL_SHUTDOWN, after the records' 1s TTL.
	agents["london"].awaitConfig(t, "draining mode", mode(v1.AnnounceMode_ANNOUNCE_MODE_DRAINING))
	gshut := time.Since(start)
	// Step 3: withdrawn after the 1s drain period.
	agents["london"].awaitConfig(t, "withdrawn mode", mode(v1.AnnounceMode_ANNOUNCE_MODE_WITHDRAWN))
	t.Logf("drain timeline: gslb-out at 0, gshut at %v, withdrawn at %v", gshut.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if gshut < time.Second {
		t.Errorf("graceful shutdown began %v after the drain, before the records' 1s TTL ran out", gshut)
	}
	if st := popStep(t, r, "london"); st.GetStep() != v1.DrainStep_DRAIN_STEP_WITHDRAWN || !st.GetDraining() {
		t.Errorf("status after the drain: %v", st)
	}
	for _, p := range []string{"tokyo", "newyork"} {
		select {
		case cfg := <-agents[p].configs:
			t.Errorf("%s got a new config during london's drain: %v", p, cfg.GetServices()[0].GetMode())
		default:
		}
	}

	// Undrain: announced with GRACEFUL_SHUTDOWN, then normally, then back
	// into GSLB answers.
	if _, err := r.Admin.Undrain(ctx, &v1.UndrainRequest{Pop: "london"}); err != nil {
		t.Fatal(err)
	}
	agents["london"].awaitConfig(t, "draining mode on the way back", mode(v1.AnnounceMode_ANNOUNCE_MODE_DRAINING))
	agents["london"].awaitConfig(t, "normal mode", mode(v1.AnnounceMode_ANNOUNCE_MODE_NORMAL))
	await(t, "london serving again", func() bool { return popStep(t, r, "london").GetStep() == v1.DrainStep_DRAIN_STEP_NONE })
	back := time.After(20 * time.Second)
	for !inService() {
		select {
		case <-back:
			t.Fatal("london not back in GSLB answers within 20s of its undrain completing")
		default:
		}
	}
}

func TestDrainRefusedBelowMinimumUnlessForced(t *testing.T) {
	r := startFleet(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	connectAgent(t, ctx, r, "tokyo").report(t, true)
	connectAgent(t, ctx, r, "london").report(t, true)
	connectAgent(t, ctx, r, "newyork").report(t, false)
	await(t, "two announcing", func() bool {
		resp, _ := r.Admin.Status(ctx, &v1.StatusRequest{})
		return resp != nil && len(resp.GetServices()[0].GetAnnouncing()) == 2
	})
	_, err := r.Admin.Drain(ctx, &v1.DrainRequest{Pop: "london"})
	want := `drain of Pop "london" refused: AnycastService "edge" would have 1 announcing PoP(s) (tokyo), below its minAnnouncingPops of 2; use --force to drain anyway`
	if status.Code(err) != codes.FailedPrecondition || status.Convert(err).Message() != want {
		t.Fatalf("drain: got %v\nwant FailedPrecondition: %s", err, want)
	}
	if st := popStep(t, r, "london"); st.GetStep() != v1.DrainStep_DRAIN_STEP_NONE {
		t.Fatalf("refused drain changed london's step to %v", st.GetStep())
	}
	if _, err := r.Admin.Drain(ctx, &v1.DrainRequest{Pop: "london", Force: true, DrainPeriod: durationpb.New(time.Second)}); err != nil {
		t.Fatalf("forced drain: %v", err)
	}
	if st := popStep(t, r, "london"); st.GetStep() != v1.DrainStep_DRAIN_STEP_GSLB {
		t.Fatalf("forced drain: london at %v", st.GetStep())
	}
}

func TestWithdrawalBudgetHoldsAnnouncementsAndReleasesThem(t *testing.T) {
	r := startFleet(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	agents := map[string]*fakeAgent{}
	for _, p := range []string{"tokyo", "london", "newyork"} {
		agents[p] = connectAgent(t, ctx, r, p)
		agents[p].report(t, true)
	}
	// A shared dependency fails everywhere: every check goes down.
	for _, a := range agents {
		a.report(t, false)
	}
	held := func(a *v1.ServiceAssignment) bool { return a.GetBudgetHold() }
	agents["london"].awaitConfig(t, "budget hold", held)
	agents["newyork"].awaitConfig(t, "budget hold", held)
	await(t, "status showing the holds", func() bool {
		resp, _ := r.Admin.Status(ctx, &v1.StatusRequest{})
		return resp != nil && strings.Join(resp.GetServices()[0].GetHeld(), ",") == "london,newyork"
	})
	// Health returns at two PoPs: the hold is released.
	agents["tokyo"].report(t, true)
	agents["london"].report(t, true)
	notHeld := func(a *v1.ServiceAssignment) bool { return !a.GetBudgetHold() }
	agents["london"].awaitConfig(t, "hold released", notHeld)
	agents["newyork"].awaitConfig(t, "hold released", notHeld)
	await(t, "status showing no hold", func() bool {
		resp, _ := r.Admin.Status(ctx, &v1.StatusRequest{})
		return resp != nil && len(resp.GetServices()[0].GetHeld()) == 0
	})
}

// TestConcurrentDrainsKeepTheMinimum drains two PoPs at once when the
// service's minimum leaves room for only one: exactly one drain passes, the
// other is refused as the first one's drain now counts against it.
func TestConcurrentDrainsKeepTheMinimum(t *testing.T) {
	r := startFleet(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, p := range []string{"tokyo", "london", "newyork"} {
		connectAgent(t, ctx, r, p).report(t, true)
	}
	await(t, "all three announcing", func() bool {
		resp, _ := r.Admin.Status(ctx, &v1.StatusRequest{})
		return resp != nil && len(resp.GetServices()[0].GetAnnouncing()) == 3
	})

	pops := []string{"london", "newyork"}
	start := make(chan struct{})
	errs := make(chan error, len(pops))
	for _, p := range pops {
		go func() {
			<-start
			_, err := r.Admin.Drain(ctx, &v1.DrainRequest{Pop: p})
			errs <- err
		}()
	}
	close(start)
	var passed int
	for range pops {
		err := <-errs
		switch status.Code(err) {
		case codes.OK:
			passed++
		case codes.FailedPrecondition:
			if !strings.Contains(err.Error(), "below its minAnnouncingPops of 2") {
				t.Errorf("refused drain: %v, want it to name the minimum", err)
			}
		default:
			t.Errorf("drain: %v, want OK or FailedPrecondition", err)
		}
	}
	if passed != 1 {
		t.Fatalf("%d of two concurrent drains passed; the minimum of 2 of 3 PoPs leaves room for one", passed)
	}
}
