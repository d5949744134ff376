package agent_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/anyctl/anyctl/agent"
	"github.com/anyctl/anyctl/agent/speaker/upstream"
	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	bgppacket "github.com/osrg/gobgp/v3/pkg/packet/bgp"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// runningAgent is an agent run in the background.
type runningAgent struct {
	a      *agent.Agent
	cancel context.CancelFunc
	done   chan error
}

// startAgent runs the agent of PoP tokyo, allowed the documentation
// prefixes, until the test ends.
func startAgent(t testing.TB, controller, stateDir string, grace time.Duration) *runningAgent {
	t.Helper()
	return runAgent(t, agent.Config{
		Pop:            "tokyo",
		Controller:     controller,
		StateDir:       stateDir,
		Origination:    agent.Origination{AllowedPrefixes: []string{"192.0.2.0/24", "203.0.113.0/24", "2001:db8::/32"}},
		ShutdownGrace:  agent.Duration(grace),
		StatusInterval: agent.Duration(200 * time.Millisecond),
	})
}

// runAgent runs an agent with cfg until the test ends. A nil cfg.Logger
// logs to the test under -v and nowhere otherwise.
func runAgent(t testing.TB, cfg agent.Config) *runningAgent {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		if testing.Verbose() {
			cfg.Logger = slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	}
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatalf("agent config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ra := &runningAgent{a: a, cancel: cancel, done: make(chan error, 1)}
	go func() { ra.done <- a.Run(ctx) }()
	t.Cleanup(func() { ra.stop(t) })
	return ra
}

func (ra *runningAgent) stop(t testing.TB) {
	t.Helper()
	if ra.cancel == nil {
		return
	}
	ra.cancel()
	ra.cancel = nil
	select {
	case err := <-ra.done:
		if err != nil {
			t.Errorf("agent stopped with: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("agent did not stop within 30s")
	}
}

// target is a TCP health target that can be stopped and started again on
// the same port.
type target struct {
	port int
	mu   sync.Mutex // guards lis and conns
	lis  net.Listener
	conn []net.Conn
}

func startTarget(t testing.TB) *target {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{port: lis.Addr().(*net.TCPAddr).Port}
	tg.serve(lis)
	t.Cleanup(tg.down)
	return tg
}

func (tg *target) serve(lis net.Listener) {
	tg.mu.Lock()
	tg.lis = lis
	tg.mu.Unlock()
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			tg.mu.Lock()
			if tg.lis != lis {
				c.Close() // accepted just before down closed lis: it dies with it
			} else {
				tg.conn = append(tg.conn, c)
			}
			tg.mu.Unlock()
		}
	}()
}

// down closes the listener and every connection, as a dying service does.
func (tg *target) down() {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.lis != nil {
		tg.lis.Close()
		tg.lis = nil
	}
	for _, c := range tg.conn {
		c.Close()
	}
	tg.conn = nil
}

func (tg *target) up(t testing.TB) {
	t.Helper()
	lis, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", tg.port))
	if err != nil {
		t.Fatalf("restarting health target: %v", err)
	}
	tg.serve(lis)
}

// testLog writes each log line to the test's log.
type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// eventRouter is an upstream GoBGP router that timestamps every change of its
// best paths as GoBGP makes it, through a watch rather than by polling its
// RIB: the arrival of a withdrawal or of a new attribute is known to within
// the watch callback's scheduling delay.
type eventRouter struct {
	bgp    *server.BgpServer
	port   uint16
	events chan routeEvent

	mu   sync.Mutex // guards best
	best map[netip.Prefix]routeEvent
}

// routeEvent is one change of a prefix's best path.
type routeEvent struct {
	at          time.Time
	prefix      netip.Prefix
	withdrawn   bool
	communities []uint32
}

// startEventRouter runs a router in routerASN on 127.0.0.1 that accepts a
// passive IPv4 session from a speaker at 127.0.0.1 in popASN.
func startEventRouter(t testing.TB) *eventRouter {
	t.Helper()
	up, err := upstream.Start(context.Background(), upstream.Config{ASN: routerASN, Listen: netip.MustParseAddr("127.0.0.1"), RouterID: netip.MustParseAddr("198.18.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(up.Stop)
	r := &eventRouter{bgp: up.Server(), port: up.Port(), events: make(chan routeEvent, 4096), best: map[netip.Prefix]routeEvent{}}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	watch := &api.WatchEventRequest{Table: &api.WatchEventRequest_Table{
		Filters: []*api.WatchEventRequest_Table_Filter{{Type: api.WatchEventRequest_Table_Filter_BEST}},
	}}
	if err := r.bgp.WatchEvent(ctx, watch, func(res *api.WatchEventResponse) { r.observe(ctx, res) }); err != nil {
		t.Fatalf("event router: watching best paths: %v", err)
	}
	if err := up.AddNeighbor(context.Background(), netip.MustParseAddr("127.0.0.1"), popASN); err != nil {
		t.Fatalf("event router: %v", err)
	}
	return r
}

// observe is GoBGP's watch callback: it records and queues each change.
func (r *eventRouter) observe(ctx context.Context, res *api.WatchEventResponse) {
	at := time.Now()
	for _, p := range res.GetTable().GetPaths() {
		nlri, err := apiutil.GetNativeNlri(p)
		if err != nil {
			continue
		}
		pfx, err := netip.ParsePrefix(nlri.String())
		if err != nil {
			continue
		}
		ev := routeEvent{at: at, prefix: pfx, withdrawn: p.GetIsWithdraw()}
		attrs, _ := apiutil.GetNativePathAttributes(p)
		for _, a := range attrs {
			if c, ok := a.(*bgppacket.PathAttributeCommunities); ok {
				ev.communities = append(ev.communities, c.Value...)
			}
		}
		r.mu.Lock()
		r.best[pfx] = ev
		r.mu.Unlock()
		select {
		case r.events <- ev:
		case <-ctx.Done():
			return
		}
	}
}

// holds reports whether the router has a best path for pfx.
func (r *eventRouter) holds(pfx netip.Prefix) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev, ok := r.best[pfx]
	return ok && !ev.withdrawn
}

// drain discards queued events.
func (r *eventRouter) drain() {
	for {
		select {
		case <-r.events:
		default:
			return
		}
	}
}

// next waits up to timeout for the next event on pfx that satisfies ok.
func (r *eventRouter) next(t testing.TB, pfx netip.Prefix, timeout time.Duration, what string, ok func(routeEvent) bool) routeEvent {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case ev := <-r.events:
			if ev.prefix == pfx && ok(ev) {
				return ev
			}
		case <-deadline.C:
			t.Fatalf("event router: no %s of %s within %v", what, pfx, timeout)
		}
	}
}
