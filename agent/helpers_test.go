package agent_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/anyctl/anyctl/agent"
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
			tg.conn = append(tg.conn, c)
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
