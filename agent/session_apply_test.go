package agent

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/anyctl/anyctl/agent/speaker/speakertest"
	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// applyLabState is the desired state of the apply tests: PoP tokyo peers
// with one router; service keep (192.0.2.0/24) keeps its last state on
// controller loss, service gone (198.51.100.0/24) withdraws.
const applyLabState = `
apiVersion: anycast.anyctl.io/v1
kind: Pop
metadata: {name: tokyo}
spec:
  location: {latitude: 35.6762, longitude: 139.6503, country: JP, continent: AS, region: apac, city: Tokyo}
  localAsn: 64512
  routerId: 192.0.2.254
  peers:
    - {address: 127.0.0.1, port: {{.Port}}, peerAsn: 64500, holdTime: 9s}
---
apiVersion: anycast.anyctl.io/v1
kind: AnycastService
metadata: {name: keep}
spec:
  prefixes: [192.0.2.0/24]
  pops: {names: [tokyo]}
  healthCheck: {protocol: tcp, target: "127.0.0.1:{{.CheckPort}}", interval: 200ms, timeout: 150ms, rise: 1, fall: 3}
  announce: {med: {{.MED}}}
---
apiVersion: anycast.anyctl.io/v1
kind: AnycastService
metadata: {name: gone}
spec:
  prefixes: [198.51.100.0/24]
  pops: {names: [tokyo]}
  healthCheck: {protocol: tcp, target: "127.0.0.1:{{.CheckPort}}", interval: 200ms, timeout: 150ms, rise: 1, fall: 3}
  onControllerLoss: withdraw
`

var (
	keepPrefix = netip.MustParsePrefix("192.0.2.0/24")
	gonePrefix = netip.MustParsePrefix("198.51.100.0/24")
)

// applyLab is replicas of a controller on one etcd, each reaching it
// through its own cut proxy, confirming every 200ms, a router the agent
// peers with and the services' health target.
type applyLab struct {
	ctx      context.Context
	replicas []*controllertest.Running
	socks    []string
	// stopped says which replicas the test stopped.
	stopped []bool
	// proxies are the replicas' paths to etcd, which the test may cut.
	proxies   []*etcdembedtest.CutProxy
	router    *speakertest.Router
	checkPort int
}

func startApplyLab(t *testing.T, replicas int, tweaks ...func(*controller.Config)) *applyLab {
	t.Helper()
	etcd := etcdembedtest.StartServer(t, filepath.Join(t.TempDir(), "etcd"))
	l := &applyLab{}
	dir := t.TempDir()
	for i := range replicas {
		sock := "unix:" + filepath.Join(dir, fmt.Sprintf("ctl%d.sock", i))
		p := etcdembedtest.StartCutProxy(t, etcd.Endpoints()[0])
		l.replicas = append(l.replicas, controllertest.StartAt(t, "", func(c *controller.Config) {
			c.EtcdEndpoints, c.Listen, c.FeedConfirmEvery = []string{p.URL()}, sock, 200*time.Millisecond
			for _, tweak := range tweaks {
				tweak(c)
			}
		}))
		l.socks, l.stopped, l.proxies = append(l.socks, sock), append(l.stopped, false), append(l.proxies, p)
	}
	l.router = speakertest.StartRouter(t, 64500)
	l.router.AddNeighbor(t, netip.MustParseAddr("127.0.0.1"), 64512)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	l.checkPort = lis.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	l.ctx = ctx
	return l
}

// apply applies the lab's state with service keep's MED med, through the
// first replica still running, and returns the revision written.
func (l *applyLab) apply(t *testing.T, med int) int64 {
	t.Helper()
	for i := range l.replicas {
		if !l.stopped[i] {
			return l.applyVia(t, i, med)
		}
	}
	t.Fatal("apply: no replica running")
	return 0
}

// applyVia is apply through replica i.
func (l *applyLab) applyVia(t *testing.T, i, med int) int64 {
	t.Helper()
	var buf bytes.Buffer
	p := struct{ Port, CheckPort, MED int }{int(l.router.Port()), l.checkPort, med}
	template.Must(template.New("state").Parse(applyLabState)).Execute(&buf, p)
	objs, err := manifest.Decode(&buf, "state.yaml")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := l.replicas[i].Admin.Apply(l.ctx, &v1.ApplyRequest{Objects: objs})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return resp.GetRevision()
}

// startAgent runs the agent of PoP tokyo against the lab's replicas until
// the test ends, calling applying (if set) as each config starts to be
// applied.
func (l *applyLab) startAgent(t *testing.T, logs *syncBuffer, staleAfter time.Duration, applying func(int64)) *Agent {
	t.Helper()
	a, err := New(Config{
		Pop: "tokyo", Controller: strings.Join(l.socks, ","), StateDir: t.TempDir(),
		Origination:          Origination{AllowedPrefixes: []string{"192.0.2.0/24", "198.51.100.0/24"}},
		StatusInterval:       Duration(200 * time.Millisecond),
		ControllerStaleAfter: Duration(staleAfter),
		Logger:               slog.New(slog.NewTextHandler(logs, nil)),
		applying:             applying,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("agent did not stop within 30s")
		}
	})
	return a
}

// streamingFrom is the index of the replica the agent last connected to,
// as its log says.
func (l *applyLab) streamingFrom(logs *syncBuffer) int {
	log := logs.String()
	last := log[strings.LastIndex(log, `msg="connected to controller"`):]
	last = last[:strings.IndexByte(last, '\n')]
	for i, sock := range l.socks {
		if strings.Contains(last, "controller="+sock+" ") {
			return i
		}
	}
	return -1
}

// awaitMED waits until the router's route for service keep's prefix has
// the MED med.
func (l *applyLab) awaitMED(t *testing.T, med uint32) {
	t.Helper()
	l.router.AwaitRoute(t, keepPrefix, func(r speakertest.Route) bool { return r.MED != nil && *r.MED == med })
}

// applyLog records the revisions the agent started to apply and can make
// the applies from some point on slow.
type applyLog struct {
	mu        sync.Mutex // guards revisions, slow and slowOnce
	revisions []int64
	// slow is how long the applies take from now on; slowOnce makes
	// only the next one slow.
	slow     time.Duration
	slowOnce bool
	// started receives each revision as its apply starts, finished as
	// the hook returns.
	started, finished chan int64
}

func newApplyLog() *applyLog {
	return &applyLog{started: make(chan int64, 1024), finished: make(chan int64, 1024)}
}

// applying is the agent's hook.
func (a *applyLog) applying(rev int64) {
	a.mu.Lock()
	a.revisions = append(a.revisions, rev)
	slow := a.slow
	if a.slowOnce {
		a.slow, a.slowOnce = 0, false
	}
	a.mu.Unlock()
	a.started <- rev
	// The apply's own work: a slow GoBGP, many prefixes, checks stopped.
	time.Sleep(slow)
	a.finished <- rev
}

func (a *applyLog) makeSlow(d time.Duration, once bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.slow, a.slowOnce = d, once
}

func (a *applyLog) applied() []int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]int64(nil), a.revisions...)
}

// awaitStart waits for an apply of revision rev or later to start.
func (a *applyLog) awaitStart(t *testing.T, rev int64) {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		select {
		case got := <-a.started:
			if got >= rev {
				return
			}
		case <-deadline:
			t.Fatalf("no apply of revision %d or later within a minute (applied %v)", rev, a.applied())
		}
	}
}

// TestSessionReadsWhileApplying: while the agent applies a config for
// longer than controllerStaleAfter, the next config arrives; the session
// goes on reading the stream, so the replica's confirmations are taken
// as they come and the agent stays on the replica, which confirms all
// along. Then it applies the newest config.
func TestSessionReadsWhileApplying(t *testing.T) {
	l := startApplyLab(t, 1)
	l.apply(t, 10)
	logs := &syncBuffer{}
	applies := newApplyLog()
	const staleAfter = 1500 * time.Millisecond
	l.startAgent(t, logs, staleAfter, applies.applying)
	l.awaitMED(t, 10)

	applies.makeSlow(4*staleAfter, true)
	applies.awaitStart(t, l.apply(t, 20))
	// The next config comes while the agent applies the one before.
	last := l.apply(t, 30)
	applies.awaitStart(t, last)
	l.awaitMED(t, 30)
	if log := logs.String(); strings.Contains(log, "controller stream ended") {
		t.Fatalf("the agent left a replica that confirms all along while it applied a config; log:\n%s", log)
	}
}

// TestConfigChurnAppliesOnlyTheNewest: twenty configs come within a
// second while the agent applies one; it then applies only the newest,
// never an older one after a newer, and the router sees the prefix
// change once for the config applied before and once for the newest,
// with no withdrawal, and nothing of the prefix no config changed.
func TestConfigChurnAppliesOnlyTheNewest(t *testing.T) {
	l := startApplyLab(t, 1)
	l.apply(t, 10)
	logs := &syncBuffer{}
	applies := newApplyLog()
	l.startAgent(t, logs, 0, applies.applying)
	l.awaitMED(t, 10)
	changes, other := l.router.WatchBest(t, keepPrefix), l.router.WatchBest(t, gonePrefix)
	before := len(applies.applied())

	applies.makeSlow(2*time.Second, true)
	applies.awaitStart(t, l.apply(t, 100))
	var last int64
	for med := 101; med <= 120; med++ {
		last = l.apply(t, med)
	}
	applies.awaitStart(t, last)
	l.awaitMED(t, 120)
	revs := applies.applied()[before:]
	t.Logf("revisions applied: %v; the router's best path changed %d times, withdrawn %d times", revs, changes.Updated(), changes.Withdrawn())
	for i := 1; i < len(revs); i++ {
		if revs[i] <= revs[i-1] {
			t.Errorf("revision %d applied after revision %d", revs[i], revs[i-1])
		}
	}
	if len(revs) != 2 {
		t.Errorf("%d configs applied (revisions %v), want 2: the one applying when the others came, then the newest", len(revs), revs)
	}
	if w := changes.Withdrawn(); w != 0 {
		t.Errorf("the router saw %s withdrawn %d times; want 0", keepPrefix, w)
	}
	if u := changes.Updated(); u != 2 {
		t.Errorf("the router's best path for %s changed %d times; want 2", keepPrefix, u)
	}
	if other.Updated() != 0 || other.Withdrawn() != 0 {
		t.Errorf("the router's best path for %s, which no config changed, changed %d times and was withdrawn %d times; want neither", gonePrefix, other.Updated(), other.Withdrawn())
	}
	if log := logs.String(); strings.Contains(log, "controller stream ended") {
		t.Errorf("the agent left its replica; log:\n%s", log)
	}
}

// TestSessionKeepsItsReportAliveWhileApplying: while the agent applies a
// config for longer than the controller's status TTL, the controller
// keeps the PoP's report: the agent lives, and its loop reports again
// once the apply is done.
func TestSessionKeepsItsReportAliveWhileApplying(t *testing.T) {
	l := startApplyLab(t, 1, func(c *controller.Config) { c.StatusTTL = 2 * time.Second })
	l.apply(t, 10)
	logs := &syncBuffer{}
	applies := newApplyLog()
	l.startAgent(t, logs, 0, applies.applying)
	l.awaitMED(t, 10)
	hasStatus := func() bool {
		resp, err := l.replicas[0].Admin.Status(l.ctx, &v1.StatusRequest{Pop: "tokyo"})
		return err == nil && resp.GetPops()[0].GetStatus() != nil
	}
	speakertest.Await(t, "tokyo's report stored", hasStatus, func() string { return "no report" })

	applies.makeSlow(6*time.Second, true)
	rev := l.apply(t, 20)
	applies.awaitStart(t, rev)
	start := time.Now()
	for {
		select {
		case r := <-applies.finished:
			if r >= rev {
				l.awaitMED(t, 20)
				return
			}
		case <-time.After(50 * time.Millisecond):
		}
		if !hasStatus() {
			t.Fatalf("the controller dropped tokyo's report %s into an apply (status TTL 2s); log:\n%s", time.Since(start).Round(time.Millisecond), logs.String())
		}
	}
}
