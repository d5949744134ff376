package fleettest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anyctl/anyctl/agent"
	"github.com/anyctl/anyctl/agent/speaker"
	"github.com/anyctl/anyctl/agent/speaker/upstream"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdcluster"
	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/daemon"
	"github.com/anyctl/anyctl/dnsgslb/feed"
	api "github.com/osrg/gobgp/v3/api"
)

// routerASN is the upstream router's AS; popASN every PoP's.
const (
	routerASN = 64500
	popASN    = 64512
)

// pops are the fleet's PoPs, each speaking BGP from its own loopback
// address so that the router tells them apart.
var pops = []struct {
	name   string
	source netip.Addr
}{
	{"tokyo", netip.MustParseAddr("127.0.0.11")},
	{"london", netip.MustParseAddr("127.0.0.12")},
	{"newyork", netip.MustParseAddr("127.0.0.13")},
}

// drainPeriod is the controllers' --drain-period: long enough that the
// leader can be killed while a drain is in its graceful-shutdown step.
const drainPeriod = 8 * time.Second

// desired is the fleet's desired state: the PoPs peering with the router,
// one anycast service everywhere (its check a local TCP listener), and a
// GSLB zone with a static record and the PoPs' unicast address record.
const desired = `
apiVersion: anycast.anyctl.io/v1
kind: Pop
metadata: {name: tokyo%[3]s}
spec:
  location: {latitude: 35.6762, longitude: 139.6503, country: JP, continent: AS, region: apac}
  localAsn: 64512
  routerId: 192.0.2.201
  peers: [{address: 127.0.0.1, port: %[1]d, peerAsn: 64500, localAddress: 127.0.0.11, holdTime: 9s}]
---
apiVersion: anycast.anyctl.io/v1
kind: Pop
metadata: {name: london%[3]s}
spec:
  location: {latitude: 51.5074, longitude: -0.1278, country: GB, continent: EU, region: emea}
  localAsn: 64512
  routerId: 192.0.2.202
  peers: [{address: 127.0.0.1, port: %[1]d, peerAsn: 64500, localAddress: 127.0.0.12, holdTime: 9s}]
---
apiVersion: anycast.anyctl.io/v1
kind: Pop
metadata: {name: newyork}
spec:
  location: {latitude: 40.7128, longitude: -74.006, country: US, continent: NA, region: amer}
  localAsn: 64512
  routerId: 192.0.2.203
  peers: [{address: 127.0.0.1, port: %[1]d, peerAsn: 64500, localAddress: 127.0.0.13, holdTime: 9s}]
---
apiVersion: anycast.anyctl.io/v1
kind: AnycastService
metadata: {name: edge}
spec:
  prefixes: [192.0.2.0/24]
  pops: {all: true}
  healthCheck: {protocol: tcp, target: "127.0.0.1:%[2]d", interval: 200ms, timeout: 100ms, rise: 2, fall: 2}
  minAnnouncingPops: 1
---
apiVersion: anycast.anyctl.io/v1
kind: GslbZone
metadata: {name: fleet}
spec:
  zone: fleet.test.
  soa: {mname: ns1.fleet.test., rname: hostmaster.fleet.test., refresh: 3600, retry: 600, expire: 1209600, minimum: 1}
  nameServers: [{name: ns1.fleet.test., addresses: [192.0.2.53]}]
  defaultTtl: 1
  records:
    - {name: www, type: A, ttl: 1, values: [192.0.2.10]}
`

// fleet is everything a test runs.
type fleet struct {
	t       *testing.T
	anyctl  string
	etcd    *etcdcluster.Cluster
	ctls    []*controllerProc
	router  *upstream.Router
	agents  map[string]*agentRun
	dns     []*dnsRun
	prober  *dnsProber
	workDir string
	// routerPort and healthPort fill the desired state's template.
	routerPort, healthPort int
}

// controllerProc is one `anyctl controller` process. Its etcd endpoints
// go through proxies the test can cut, to partition it from etcd.
type controllerProc struct {
	name    string
	addr    string
	args    []string
	proxies []*proxy

	mu sync.Mutex // guards log, earlier, cmd and done
	// log is the running process's log; earlier holds the logs of its
	// earlier runs.
	log     *syncBuffer
	earlier string
	cmd     *exec.Cmd
	done    chan struct{}
}

type agentRun struct {
	a   *agent.Agent
	log *syncBuffer
}

type dnsRun struct {
	d    *daemon.Daemon
	addr string
	log  *syncBuffer
}

// buildAnyctl builds the anyctl binary once per test binary.
func buildAnyctl(t *testing.T) string {
	t.Helper()
	return etcdcluster.Build(t, "github.com/anyctl/anyctl/cli/anyctl")
}

// startFleet starts the etcd cluster, n controller replicas, the router,
// an agent per PoP and two DNS servers, applies the desired state and
// waits until every PoP announces and every DNS server answers.
func startFleet(t *testing.T, replicas int) *fleet {
	t.Helper()
	f := &fleet{t: t, anyctl: buildAnyctl(t), agents: map[string]*agentRun{}, workDir: t.TempDir()}
	f.etcd = etcdcluster.Start(t, etcdcluster.Options{TLS: true, Auth: true})
	for i := range replicas {
		f.ctls = append(f.ctls, f.newController(fmt.Sprintf("ctl%d", i+1)))
	}
	for _, c := range f.ctls {
		f.startController(c)
	}
	for _, c := range f.ctls {
		f.awaitServing(c)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var agents sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		agents.Wait()
	})
	rt, err := upstream.Start(ctx, upstream.Config{ASN: routerASN, Listen: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Stop)
	f.router = rt
	health, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { health.Close() })
	go func() {
		for {
			c, err := health.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	manifest := filepath.Join(f.workDir, "fleet.yaml")
	f.routerPort, f.healthPort = int(rt.Port()), health.Addr().(*net.TCPAddr).Port
	if err := os.WriteFile(manifest, fmt.Appendf(nil, desired, f.routerPort, f.healthPort, ""), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := f.cli("apply", "-f", manifest); err != nil {
		t.Fatalf("anyctl apply: %v\n%s", err, out)
	}

	list := f.controllerList()
	for _, p := range pops {
		if err := rt.AddNeighbor(ctx, p.source, popASN, upstream.WithFamilies(speaker.IPv4Unicast)); err != nil {
			t.Fatal(err)
		}
		log := &syncBuffer{}
		a, err := agent.New(agent.Config{
			Pop:           p.name,
			Controller:    list,
			StateDir:      filepath.Join(f.workDir, "agent-"+p.name),
			Origination:   agent.Origination{AllowedPrefixes: []string{"192.0.2.0/24"}},
			ShutdownGrace: agent.Duration(time.Millisecond),
			Logger:        slog.New(slog.NewTextHandler(log, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		agents.Go(func() { _ = a.Run(ctx) })
		// GoBGP servers share process-wide settings while starting:
		// start the agents' speakers one after another.
		select {
		case <-a.Ready():
		case <-time.After(time.Minute):
			t.Fatalf("agent %s not ready", p.name)
		}
		f.agents[p.name] = &agentRun{a: a, log: log}
	}
	for i := range 2 {
		log := &syncBuffer{}
		d, err := daemon.New(daemon.Config{
			Server: dnsgslb.Config{
				Listen:          "127.0.0.1:0",
				StateDir:        filepath.Join(f.workDir, fmt.Sprintf("dns%d", i+1)),
				DefaultLocation: dnsgslb.Location{Latitude: 50.1, Longitude: 8.7, Country: "DE", Continent: "EU"},
				Logger:          slog.New(slog.NewTextHandler(log, nil)),
			},
			Feed: feed.Config{Controller: list, ServerName: fmt.Sprintf("dns%d", i+1), Logger: slog.New(slog.NewTextHandler(log, nil))},
		})
		if err != nil {
			t.Fatal(err)
		}
		agents.Go(func() { _ = d.Run(ctx) })
		select {
		case <-d.Ready():
		case <-time.After(time.Minute):
			t.Fatalf("dns server %d not ready", i+1)
		}
		udp, _ := d.Server().Addr()
		f.dns = append(f.dns, &dnsRun{d: d, addr: udp.String(), log: log})
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, c := range f.ctls {
				t.Logf("controller %s (%s) log:\n%s%s", c.name, c.addr, c.earlier, c.logText())
			}
			for name, a := range f.agents {
				t.Logf("agent %s log:\n%s", name, a.log.String())
			}
		}
	})
	f.awaitAll("every PoP announcing 192.0.2.0/24 at the router", time.Minute, func() bool { return f.announcing() == len(pops) })
	f.awaitAll("every DNS server answering www.fleet.test", time.Minute, func() bool {
		for _, d := range f.dns {
			if err := queryOnce(d.addr); err != nil {
				return false
			}
		}
		return true
	})
	f.prober = startProber(t, f.dns)
	return f
}

// controllerList is the replicas' addresses as agents and DNS servers
// are given them.
func (f *fleet) controllerList() string {
	var out []string
	for _, c := range f.ctls {
		out = append(out, c.addr)
	}
	return strings.Join(out, ",")
}

func (f *fleet) newController(name string) *controllerProc {
	t := f.t
	c := &controllerProc{name: name, addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), log: &syncBuffer{}}
	var endpoints []string
	for _, ep := range f.etcd.Endpoints() {
		p := startProxy(t, strings.TrimPrefix(strings.TrimPrefix(ep, "https://"), "http://"))
		c.proxies = append(c.proxies, p)
		endpoints = append(endpoints, "https://"+p.addr())
	}
	flags := f.etcd.ControllerFlags()
	flags[1] = strings.Join(endpoints, ",") // --etcd-endpoints through the proxies
	c.args = append([]string{"controller", "--listen", c.addr, "--metrics-listen", "",
		"--drain-period", drainPeriod.String(), "--status-ttl", "6s", "--log-level", "debug"}, flags...)
	t.Cleanup(func() { f.kill(c, syscall.SIGTERM) })
	return c
}

func (f *fleet) startController(c *controllerProc) {
	f.t.Helper()
	c.mu.Lock()
	c.earlier += c.log.String()
	c.log = &syncBuffer{}
	log := c.log
	c.mu.Unlock()
	cmd := exec.Command(f.anyctl, c.args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		f.t.Fatalf("controller %s: %v", c.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	c.mu.Lock()
	c.cmd, c.done = cmd, done
	c.mu.Unlock()
}

// kill sends sig to the controller and waits until it has exited.
func (f *fleet) kill(c *controllerProc, sig syscall.Signal) {
	c.mu.Lock()
	cmd, done := c.cmd, c.done
	c.cmd = nil
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// awaitServing waits until the controller logs that it serves.
func (f *fleet) awaitServing(c *controllerProc) {
	f.t.Helper()
	f.awaitAll("controller "+c.name+" serving", time.Minute, func() bool {
		return strings.Contains(c.logText(), "controller serving")
	})
}

// leader returns the replica leading now: the last to log that it leads,
// and not lost it since.
func (f *fleet) leader() *controllerProc {
	for _, c := range f.ctls {
		c.mu.Lock()
		alive := c.cmd != nil
		c.mu.Unlock()
		if !alive {
			continue
		}
		l := c.logText()
		lead := strings.LastIndex(l, `msg="leading the fleet jobs"`)
		if lead >= 0 && lead > strings.LastIndex(l, "stopped leading") && lead > strings.LastIndex(l, "leadership lost") {
			return c
		}
	}
	return nil
}

// cli runs anyctl against the first live replica.
func (f *fleet) cli(args ...string) (string, error) {
	for _, c := range f.ctls {
		c.mu.Lock()
		alive := c.cmd != nil
		c.mu.Unlock()
		if alive {
			return f.cliAt(c, args...)
		}
	}
	return "", fmt.Errorf("no controller running")
}

func (f *fleet) cliAt(c *controllerProc, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.anyctl, append([]string{"--server", c.addr}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// awaitAll polls cond every 20 ms until it holds, failing the test after
// within.
func (f *fleet) awaitAll(what string, within time.Duration, cond func() bool) time.Duration {
	f.t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			f.t.Fatalf("%s: not after %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// updates counts the UPDATEs the router has received from each PoP.
func (f *fleet) updates() map[string]uint64 {
	out := map[string]uint64{}
	_ = f.router.Server().ListPeer(context.Background(), &api.ListPeerRequest{}, func(p *api.Peer) {
		for _, pop := range pops {
			if p.GetConf().GetNeighborAddress() == pop.source.String() {
				out[pop.name] = p.GetState().GetMessages().GetReceived().GetUpdate()
			}
		}
	})
	return out
}

// announcing counts the PoPs whose session is up and that announce the
// service prefix to the router.
func (f *fleet) announcing() int {
	n := 0
	_ = f.router.Server().ListPeer(context.Background(), &api.ListPeerRequest{}, func(p *api.Peer) {
		if p.GetState().GetSessionState() != api.PeerState_ESTABLISHED {
			return
		}
		for _, af := range p.GetAfiSafis() {
			if af.GetState().GetReceived() > 0 {
				n++
				return
			}
		}
	})
	return n
}

// popAnnounces reports whether the router holds the prefix from pop.
func (f *fleet) popAnnounces(pop string) bool {
	var src string
	for _, p := range pops {
		if p.name == pop {
			src = p.source.String()
		}
	}
	got := false
	_ = f.router.Server().ListPeer(context.Background(), &api.ListPeerRequest{Address: src}, func(p *api.Peer) {
		for _, af := range p.GetAfiSafis() {
			got = got || af.GetState().GetReceived() > 0
		}
	})
	return got
}

// diff is after minus before, per PoP.
func diff(before, after map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for k, v := range after {
		out[k] = v - before[k]
	}
	return out
}

// streamingTo returns the replica pop's agent last connected to (from its
// log), and how many streams it has established.
func (f *fleet) streamingTo(pop string) (replica string, n int) {
	const connected = `msg="connected to controller"`
	for _, line := range strings.Split(f.agents[pop].log.String(), "\n") {
		if !strings.Contains(line, connected) {
			continue
		}
		n++
		if _, rest, ok := strings.Cut(line, " controller="); ok {
			replica, _, _ = strings.Cut(rest, " ")
		}
	}
	return replica, n
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer is a log sink safe for concurrent writers and readers.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var _ io.Writer = (*syncBuffer)(nil)

// other returns a live replica other than c.
func (f *fleet) other(c *controllerProc) *controllerProc {
	for _, o := range f.ctls {
		o.mu.Lock()
		alive := o.cmd != nil
		o.mu.Unlock()
		if o != c && alive {
			return o
		}
	}
	f.t.Fatal("no other live replica")
	return nil
}

// logText is the running (or last) process's log.
func (c *controllerProc) logText() string {
	c.mu.Lock()
	log := c.log
	c.mu.Unlock()
	return log.String()
}

// alive reports whether the controller's process runs.
func (c *controllerProc) alive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cmd != nil
}

// awaitEach polls every condition every 20 ms until all hold, and returns
// how long after start each first held; it fails the test after within.
func (f *fleet) awaitEach(start time.Time, within time.Duration, conds map[string]func() bool) map[string]time.Duration {
	f.t.Helper()
	got := map[string]time.Duration{}
	for len(got) < len(conds) {
		for what, cond := range conds {
			if _, ok := got[what]; !ok && cond() {
				got[what] = time.Since(start)
			}
		}
		if time.Since(start) > within {
			for what := range conds {
				if _, ok := got[what]; !ok {
					f.t.Fatalf("%s: not after %s", what, within)
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return got
}

// moved reports whether every agent in on has a new stream with a replica
// other than c.
func (f *fleet) moved(c *controllerProc, on map[string]int) func() bool {
	return func() bool {
		for pop, n := range on {
			if replica, m := f.streamingTo(pop); m <= n || strings.HasPrefix(replica, c.addr) {
				return false
			}
		}
		return true
	}
}
