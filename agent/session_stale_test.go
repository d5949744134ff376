package agent

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controlconn"
	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestSessionLeavesAReplicaThatStopsConfirming: an agent streaming from
// a replica cut off from etcd moves to the other replica within
// controllerStaleAfter, long before the cut replica ends its stream
// (the lease's 15 s TTL), and gets the state written there meanwhile.
// startReplicasBehindProxies runs two replicas on one etcd, each reaching
// it through its own cut proxy, confirming every 200ms, with the example
// deployment applied.
func startReplicasBehindProxies(t *testing.T) (ctx context.Context, socks []string, replicas []*controllertest.Running, proxies []*etcdembedtest.CutProxy, objs []*v1.Object) {
	t.Helper()
	etcd := etcdembedtest.StartServer(t, filepath.Join(t.TempDir(), "etcd"))
	dir := t.TempDir()
	for i := range 2 {
		p := etcdembedtest.StartCutProxy(t, etcd.Endpoints()[0])
		sock := "unix:" + filepath.Join(dir, fmt.Sprintf("ctl%d.sock", i))
		replicas = append(replicas, controllertest.StartAt(t, "", func(c *controller.Config) {
			c.EtcdEndpoints, c.Listen, c.FeedConfirmEvery = []string{p.URL()}, sock, 200*time.Millisecond
		}))
		socks, proxies = append(socks, sock), append(proxies, p)
	}
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	if _, err := replicas[0].Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatal(err)
	}
	return ctx, socks, replicas, proxies, objs
}

func TestSessionLeavesAReplicaThatStopsConfirming(t *testing.T) {
	ctx, socks, replicas, proxies, objs := startReplicasBehindProxies(t)
	logs := &syncBuffer{}
	configs := make(chan *v1.PopConfig, 1024)
	connected := make(chan bool, 1024)
	const staleAfter = 1500 * time.Millisecond
	s := &session{controllers: controlconn.NewRotation(socks), pop: "tokyo", instance: newInstance(), log: slog.New(slog.NewTextHandler(logs, nil)),
		revision: new(atomic.Int64), configs: configs, connected: connected, reports: make(chan *v1.PopStatus, 1), staleAfter: staleAfter}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.run(runCtx); close(done) }()
	defer func() { stop(); <-done }()

	awaitLog := func(what string, ok func(string) bool) string {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
			if l := logs.String(); ok(l) {
				return l
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within a minute; log:\n%s", what, logs.String())
			}
		}
	}
	// The replica the agent reaches first may not hold the applied
	// state yet, and refuse the PoP (NotFound): the test starts from the
	// stream that sent the first config.
	select {
	case <-configs:
	case <-time.After(time.Minute):
		t.Fatalf("no config within a minute; log:\n%s", logs.String())
	}
	log := logs.String()
	base := len(log)
	last := log[strings.LastIndex(log, "connected to controller"):]
	last = last[:strings.IndexByte(last, '\n')]
	on := 0
	if strings.Contains(last, "controller="+socks[1]) {
		on = 1
	}
	other := 1 - on
	// Let it confirm a few times: a confirming replica keeps the agent.
	time.Sleep(4 * staleAfter / 3)
	if strings.Contains(logs.String()[base:], "controller stream ended") {
		t.Fatalf("the agent left a replica that confirms; log:\n%s", logs.String())
	}

	cut := time.Now()
	proxies[on].Partition()
	for _, o := range objs {
		if org := o.GetOrigin(); org != nil && org.GetMetadata().GetName() == "us-east" {
			org.Spec.Weight = 7
		}
	}
	resp, err := replicas[other].Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs})
	if err != nil {
		t.Fatal(err)
	}
	awaitLog("moved to the other replica", func(l string) bool {
		return strings.Contains(l[base:], "connected to controller")
	})
	moved := time.Since(cut)
	log = logs.String()[base:]
	if !strings.Contains(log, "has not confirmed that its state is current") || !strings.Contains(log, "controllerStaleAfter") {
		t.Errorf("the agent did not leave %s for want of confirmations; log:\n%s", socks[on], log)
	}
	if moved > 10*time.Second {
		t.Errorf("the agent moved %s after its replica was cut off; want about controllerStaleAfter (%s)", moved, staleAfter)
	}
	t.Logf("moved to the other replica %s after the cut (stale after %s)", moved.Round(time.Millisecond), staleAfter)
	for deadline := time.After(time.Minute); ; {
		select {
		case cfg := <-configs:
			if cfg.GetRevision() >= resp.GetRevision() {
				return
			}
		case <-deadline:
			t.Fatalf("no config of revision %d or later; log:\n%s", resp.GetRevision(), logs.String())
		}
	}
}

// TestSessionBacksOffWhenNoReplicaConfirms: with every replica's etcd
// slow, no replica confirms within controllerStaleAfter; the agent
// moves once round the replicas, then stays longer on each (doubling,
// jittered) rather than taking a new stream, claiming its PoP again and
// taking a full config every controllerStaleAfter.
func TestSessionBacksOffWhenNoReplicaConfirms(t *testing.T) {
	ctx, socks, _, proxies, _ := startReplicasBehindProxies(t)
	logs := &syncBuffer{}
	configs := make(chan *v1.PopConfig, 1024)
	connected := make(chan bool, 1024)
	const staleAfter = time.Second
	s := &session{controllers: controlconn.NewRotation(socks), pop: "tokyo", instance: newInstance(), log: slog.New(slog.NewTextHandler(logs, nil)),
		revision: new(atomic.Int64), configs: configs, connected: connected, reports: make(chan *v1.PopStatus, 1), staleAfter: staleAfter}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.run(runCtx); close(done) }()
	defer func() { stop(); <-done }()
	go func() { // the agent's loop takes every config
		for {
			select {
			case <-configs:
			case <-connected:
			case <-runCtx.Done():
				return
			}
		}
	}()
	for deadline := time.Now().Add(time.Minute); !strings.Contains(logs.String(), "connected to controller"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not connected within a minute; log:\n%s", logs.String())
		}
	}
	// A round trip to etcd of 1.2s: a confirmation (a read, then a
	// progress notification) is older than the limit when it is made,
	// while etcd's health probes and the replicas' leases still succeed.
	for _, p := range proxies {
		p.Delay(600 * time.Millisecond)
	}
	base := len(logs.String())
	const watch = time.Minute
	time.Sleep(watch) // counting what the agent does meanwhile
	log := logs.String()[base:]
	moves := strings.Count(log, "has not confirmed that its state is current")
	connects := strings.Count(log, "connected to controller")
	t.Logf("in %s with every replica's etcd slow: %d moves for want of confirmations, %d new streams (stale after %s)", watch, moves, connects, staleAfter)
	if moves == 0 {
		t.Fatalf("no move in %s: the replicas still confirm, so etcd is not slow enough for this test; log:\n%s", watch, log)
	}
	if connects > 12 {
		t.Errorf("%d new streams in %s with no replica able to confirm; want the agent to back off (at most 12); log:\n%s", connects, watch, log)
	}
}
