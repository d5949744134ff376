package feed_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	"github.com/anyctl/anyctl/dnsgslb/feed"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// confirmations counts Config.Confirmed calls and keeps the last time.
type confirmations struct {
	n    atomic.Int64
	mu   sync.Mutex // guards last
	last time.Time
}

func (c *confirmations) confirmed(at time.Time) {
	c.n.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = at
}

func (c *confirmations) lastAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// startReplicasBehindProxies runs two replicas on one etcd, each reaching
// it through its own cutProxy, confirming every 200ms; tweaks change
// both replicas' configs.
func startReplicasBehindProxies(t *testing.T, tweaks ...func(*controller.Config)) (socks []string, replicas []*controllertest.Running, proxies []*etcdembedtest.CutProxy) {
	t.Helper()
	etcd := etcdembedtest.StartServer(t, filepath.Join(t.TempDir(), "etcd"))
	dir := t.TempDir()
	for i := range 2 {
		p := etcdembedtest.StartCutProxy(t, etcd.Endpoints()[0])
		sock := "unix:" + filepath.Join(dir, fmt.Sprintf("ctl%d.sock", i))
		replicas = append(replicas, controllertest.StartAt(t, "", func(c *controller.Config) {
			c.EtcdEndpoints, c.Listen, c.FeedConfirmEvery = []string{p.URL()}, sock, 200*time.Millisecond
			for _, tweak := range tweaks {
				tweak(c)
			}
		}))
		socks, proxies = append(socks, sock), append(proxies, p)
	}
	return socks, replicas, proxies
}

// TestFeedLeavesAReplicaThatStopsConfirming: a replica cut off from etcd
// keeps its DNS servers' streams open for the replica lease's TTL (15 s);
// it stops confirming its state at once, and a DNS server streaming from
// it moves to the other replica within --feed-stale-after, and gets the
// write made there meanwhile.
func TestFeedLeavesAReplicaThatStopsConfirming(t *testing.T) {
	socks, replicas, proxies := startReplicasBehindProxies(t)
	applyObjects(t, replicas[0], exampleObjects(t)...)

	logs := newLogRecorder()
	var conf confirmations
	snaps := make(chan *v1.GslbSnapshot, 1024)
	const staleAfter = 1500 * time.Millisecond
	runFeed(t, feed.Config{Controller: strings.Join(socks, ","), Logger: slog.New(logs), StaleAfter: staleAfter, Confirmed: conf.confirmed},
		func(_ context.Context, s *v1.GslbSnapshot) error { snaps <- s; return nil }, nil)
	logs.await(t, "gslb feed connected")
	on := 0
	if strings.Contains(logs.String(), socks[1]) {
		on = 1
	}
	other := 1 - on
	deadline := time.Now().Add(waitLimit)
	for conf.n.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than 3 confirmations within %s; log:\n%s", waitLimit, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if age := time.Since(conf.lastAt()); age > time.Second {
		t.Errorf("the last confirmation from a healthy replica confirming every 200ms is %s old", age)
	}

	logs.reset()
	cut := time.Now()
	proxies[on].Partition()
	applyObjects(t, replicas[other], originWithWeight(t, "us-east", 7))
	logs.await(t, "connected")
	moved := time.Since(cut)
	log := logs.String()
	if !strings.Contains(log, "has not confirmed that its state is current") || !strings.Contains(log, "replica="+socks[other]) {
		t.Fatalf("after cutting %s from etcd the feed did not move to %s for want of confirmations; log:\n%s", socks[on], socks[other], log)
	}
	// The replica itself ends its streams only after the lease's TTL.
	if moved > 10*time.Second {
		t.Errorf("the feed moved %s after its replica was cut off; want about --feed-stale-after (%s)", moved, staleAfter)
	}
	t.Logf("moved to the other replica %s after the cut (stale after %s)", moved.Round(time.Millisecond), staleAfter)
	for s := range snaps {
		if weightIs("us-east", 7)(s) {
			break
		}
	}
	if age := time.Since(conf.lastAt()); age > time.Second {
		t.Errorf("the last confirmation is %s old after moving to a healthy replica", age)
	}
}

// TestFeedStaysOnAQuietHealthyReplica: a replica with nothing to send
// but its confirmations keeps its DNS servers, however long it is quiet.
func TestFeedStaysOnAQuietHealthyReplica(t *testing.T) {
	socks, replicas, _ := startReplicasBehindProxies(t)
	applyObjects(t, replicas[0], exampleObjects(t)...)
	logs := newLogRecorder()
	var conf confirmations
	runFeed(t, feed.Config{Controller: strings.Join(socks, ","), Logger: slog.New(logs), StaleAfter: time.Second, Confirmed: conf.confirmed}, nil, nil)
	logs.await(t, "gslb feed connected")
	// Watch for five times --feed-stale-after: nothing may happen.
	time.Sleep(5 * time.Second)
	if logs.has("gslb feed lost") || strings.Count(logs.String(), "gslb feed connected") != 1 {
		t.Errorf("the feed left a quiet healthy replica; log:\n%s", logs.String())
	}
	if n := conf.n.Load(); n < 15 {
		t.Errorf("%d confirmations in 5s from a replica confirming every 200ms", n)
	}
}

// olderController is a GSLB feed from before confirmations: a snapshot,
// then nothing.
type olderController struct {
	v1.UnimplementedGslbFeedServiceServer
}

func (olderController) Subscribe(_ *v1.SubscribeRequest, stream v1.GslbFeedService_SubscribeServer) error {
	if err := stream.Send(&v1.SubscribeResponse{Snapshot: &v1.GslbSnapshot{Revision: 1}}); err != nil {
		return err
	}
	<-stream.Context().Done()
	return nil
}

// TestFeedStaysOnAnOlderController: a controller that never says it
// confirms is not held to confirmations, so that upgrading DNS servers
// before controllers does not make them leave every replica in turn.
func TestFeedStaysOnAnOlderController(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	v1.RegisterGslbFeedServiceServer(gs, olderController{})
	go gs.Serve(l)
	t.Cleanup(gs.Stop)
	logs := newLogRecorder()
	var conf confirmations
	runFeed(t, feed.Config{Controller: l.Addr().String(), Logger: slog.New(logs), StaleAfter: time.Second, Confirmed: conf.confirmed}, nil, nil)
	logs.await(t, "does not confirm that its state is current")
	time.Sleep(3 * time.Second)
	if logs.has("gslb feed lost") {
		t.Errorf("the feed left a controller from before confirmations; log:\n%s", logs.String())
	}
	if n, at := conf.n.Load(), conf.lastAt(); n != 1 || !at.IsZero() {
		t.Errorf("Confirmed called %d times, last with %v; want once, with the zero time", n, at)
	}
}

// startConfirmedFeed starts replicas behind proxies to one etcd (tweaks
// apply to both replicas' configs) with the example objects, and a feed
// on them with staleAfter, once it is connected and has seen two
// confirmations: what a test then slows or cuts.
func startConfirmedFeed(t *testing.T, staleAfter time.Duration, tweaks ...func(*controller.Config)) (socks []string, proxies []*etcdembedtest.CutProxy, logs *logRecorder, conf *confirmations) {
	t.Helper()
	socks, replicas, proxies := startReplicasBehindProxies(t, tweaks...)
	applyObjects(t, replicas[0], exampleObjects(t)...)
	logs, conf = newLogRecorder(), &confirmations{}
	runFeed(t, feed.Config{Controller: strings.Join(socks, ","), Logger: slog.New(logs), StaleAfter: staleAfter, Confirmed: conf.confirmed}, nil, nil)
	logs.await(t, "gslb feed connected")
	for deadline := time.Now().Add(waitLimit); conf.n.Load() < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than 2 confirmations within %s; log:\n%s", waitLimit, logs.String())
		}
	}
	return socks, proxies, logs, conf
}

// TestFeedBacksOffWhenNoReplicaConfirms: with every replica's etcd slow
// (it answers, and the replicas keep their leases and streams), no
// replica confirms within --feed-stale-after. The feed moves once round
// the replicas for want of confirmations, then, finding none fresher,
// stays longer on each (doubling, jittered), rather than taking a new
// stream and a full snapshot every --feed-stale-after.
func TestFeedBacksOffWhenNoReplicaConfirms(t *testing.T) {
	const staleAfter = time.Second
	_, proxies, logs, _ := startConfirmedFeed(t, staleAfter)
	// A round trip to etcd of 1.2s: a confirmation (a read, then a
	// progress notification) is older than the limit when it is made,
	// while etcd's health probes and the replicas' leases still succeed.
	for _, p := range proxies {
		p.Delay(600 * time.Millisecond)
	}
	logs.reset()
	const watch = time.Minute
	time.Sleep(watch) // counting what the feed does meanwhile
	log := logs.String()
	moves := strings.Count(log, "has not confirmed that its state is current")
	connects := strings.Count(log, "gslb feed connected")
	t.Logf("in %s with every replica's etcd slow: %d moves for want of confirmations, %d new streams (stale after %s)", watch, moves, connects, staleAfter)
	if moves == 0 {
		t.Fatalf("no move in %s: the replicas still confirm, so etcd is not slow enough for this test; log:\n%s", watch, log)
	}
	// Leaving each replica at its limit, or at once when the first
	// confirmation it sends is already older than the limit, is hundreds
	// of streams a minute; doubling from the second round on (1+1+2+4+8+
	// 16 s) is under ten.
	if connects > 12 {
		t.Errorf("%d new streams in %s with no replica able to confirm; want the feed to back off (at most 12); log:\n%s", connects, watch, log)
	}
}

// TestFeedStaysWhileBuildingASnapshot: a snapshot whose build takes
// longer than --feed-stale-after (a large GeoIP database) does not make
// the feed leave a replica that keeps confirming: the confirmations wait
// in the stream while the server builds, and the limit measures the
// replica's silence, not the server's build.
func TestFeedStaysWhileBuildingASnapshot(t *testing.T) {
	socks, replicas, _ := startReplicasBehindProxies(t)
	applyObjects(t, replicas[0], exampleObjects(t)...)
	logs := newLogRecorder()
	var conf confirmations
	const staleAfter = time.Second
	var builds atomic.Int64
	built := make(chan struct{}, 16)
	build := func(ctx context.Context, s *v1.GslbSnapshot) error {
		if builds.Add(1) == 2 {
			// The build of the change takes three limits.
			select {
			case <-time.After(3 * staleAfter):
			case <-ctx.Done():
			}
		}
		built <- struct{}{}
		return nil
	}
	runFeed(t, feed.Config{Controller: strings.Join(socks, ","), Logger: slog.New(logs), StaleAfter: staleAfter, Confirmed: conf.confirmed}, build, nil)
	logs.await(t, "gslb feed connected")
	<-built
	for deadline := time.Now().Add(waitLimit); conf.n.Load() < 3; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than 3 confirmations within %s; log:\n%s", waitLimit, logs.String())
		}
	}
	applyObjects(t, replicas[0], originWithWeight(t, "us-east", 7))
	select {
	case <-built:
	case <-time.After(waitLimit):
		t.Fatalf("the change was not built within %s; log:\n%s", waitLimit, logs.String())
	}
	// Confirmations after the build come from the same stream.
	for n, deadline := conf.n.Load(), time.Now().Add(waitLimit); conf.n.Load() < n+3; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no confirmations after the build within %s; log:\n%s", waitLimit, logs.String())
		}
	}
	if logs.has("gslb feed lost") || strings.Count(logs.String(), "gslb feed connected") != 1 {
		t.Errorf("the feed left a confirming replica while it built a snapshot for %s (--feed-stale-after %s); log:\n%s", 3*staleAfter, staleAfter, logs.String())
	}
}

// TestFeedLeavesACutOffReplicaWhilePatient: once no replica confirms
// (every replica's etcd so slow that a confirmation cannot be made) the
// feed waits ever longer on each replica; when one replica's etcd then
// recovers while the one it streams from is cut off from etcd, the feed
// leaves the cut off one within about the limit after etcd stopped
// answering it, not after the long wait (8.5 to 16 limits by then).
func TestFeedLeavesACutOffReplicaWhilePatient(t *testing.T) {
	const staleAfter = time.Second
	socks, proxies, logs, _ := startConfirmedFeed(t, staleAfter)
	// A round trip to etcd of 4.4 s: a read takes longer than a
	// confirmation may (4 s with a 200ms interval), so no replica
	// confirms, while etcd still answers every read, late.
	for _, p := range proxies {
		p.Delay(2200 * time.Millisecond)
	}
	logs.reset()
	// Five moves for want of confirmations: the next stream waits 8.5
	// to 16 limits.
	const moved = "has not confirmed that its state is current"
	for deadline := time.Now().Add(waitLimit); strings.Count(logs.String(), moved) < 5; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than 5 moves within %s with no replica confirming; log:\n%s", waitLimit, logs.String())
		}
	}
	logs.reset()
	logs.await(t, "gslb feed connected")
	on := 0
	if strings.Contains(logs.String(), "replica="+socks[1]) {
		on = 1
	}
	other := 1 - on

	logs.reset()
	cut := time.Now()
	proxies[on].Partition()
	proxies[other].Delay(0)
	logs.await(t, "gslb feed connected")
	took := time.Since(cut)
	log := logs.String()
	if !strings.Contains(log, "replica="+socks[other]) {
		t.Fatalf("after cutting %s from etcd the feed did not move to %s; log:\n%s", socks[on], socks[other], log)
	}
	t.Logf("moved to the other replica %s after the cut (stale after %s)", took.Round(time.Millisecond), staleAfter)
	// etcd's last answers reach the cut off replica up to 2.2 s after
	// the cut; it is left about 2 s after them.
	if took > 7*time.Second {
		t.Errorf("the feed left a replica cut off from etcd %s after the cut; want within 7 s (etcd's last answer, 2.2 s, then about the limit); log:\n%s", took.Round(time.Millisecond), log)
	}
}

// TestFeedStaysPatientThroughAnEtcdStall: while no replica confirms
// (every replica's etcd slow, answering late), etcd stalling for a
// moment (answers 3 to 3.5 s apart instead of every second, as when
// etcd elects a leader or syncs a slow disk) makes a replica say, for
// a moment, that etcd does not answer it. A patient feed must not leave
// it for that: the same stall reaches every replica, and every DNS
// server and agent would leave its replica at once, the storm waiting
// longer is for. Only a replica still silent after the limit is left.
func TestFeedStaysPatientThroughAnEtcdStall(t *testing.T) {
	ctlLogs := newLogRecorder()
	// The limit leaves room for the stall below: etcd silent (2 s
	// without an answer) for about a second, well within the limit.
	const staleAfter = 2500 * time.Millisecond
	_, proxies, logs, _ := startConfirmedFeed(t, staleAfter, func(c *controller.Config) { c.Logger = slog.New(ctlLogs) })
	// A 4.4 s round trip: no replica confirms (4 s allowed), etcd
	// answers every read, late.
	const slow = 2200 * time.Millisecond
	for _, p := range proxies {
		p.Delay(slow)
	}
	logs.reset()
	// Four moves for want of confirmations: the next stream waits 4.5
	// to 8 limits (11 to 20 s).
	const moved = "has not confirmed that its state is current"
	for deadline := time.Now().Add(waitLimit); strings.Count(logs.String(), moved) < 4; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than 4 moves within %s with no replica confirming; log:\n%s", waitLimit, logs.String())
		}
	}
	logs.reset()
	logs.await(t, "gslb feed connected")
	connected := time.Now()
	// The stall comes once the limit from the stream's start has passed
	// too: the limit is then counted from the replica's word alone.
	time.Sleep(staleAfter + time.Second) // when the stall comes, not a synchronisation
	ctlLogs.reset()
	// The stall: what passes for half a second is held 2.5 s longer,
	// and what follows waits behind it: answers, a second apart, stop
	// for 3 to 3.5 s, clearly longer than the 2 s that make a replica
	// say etcd is silent, on a loaded machine too.
	for _, p := range proxies {
		p.Delay(slow + 2500*time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // the stall's length, not a synchronisation
	for _, p := range proxies {
		p.Delay(slow)
	}
	logs.await(t, moved)
	took := time.Since(connected)
	log := logs.String()
	if !ctlLogs.has("etcd has not answered for a while") {
		t.Fatalf("the stall did not make the replicas say that etcd does not answer them before the feed moved %s after the stream began; replicas' log:\n%s", took.Round(time.Millisecond), ctlLogs.String())
	}
	t.Logf("left the replica %s after the stream began (stale after %s)", took.Round(time.Millisecond), staleAfter)
	if strings.Contains(log, "the replica says etcd does not answer it") {
		t.Errorf("the feed left a replica %s after the stream began for a stall of etcd of a few seconds, while waiting longer as no replica confirms; log:\n%s", took.Round(time.Millisecond), log)
	}
	// A stall, not a cut: etcd answers the replicas again.
	ctlLogs.await(t, "etcd answers this replica again")
}
