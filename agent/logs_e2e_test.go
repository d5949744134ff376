package agent_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anyctl/anyctl/agent"
	"github.com/anyctl/anyctl/agent/speaker/speakertest"
)

// logBuffer is a log destination safe for the agent's goroutines.
type logBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestAgentLogsAFailover checks that a failover and its return leave the
// lines an operator greps for, at info: the check going down with why, the
// hold-down, each prefix withdrawn and announced again with why, and the
// session coming up.
func TestAgentLogsAFailover(t *testing.T) {
	l := newLab(t)
	logs := &logBuffer{}
	runAgent(t, agent.Config{
		Pop:            "tokyo",
		Controller:     l.ctrl.Addr,
		StateDir:       t.TempDir(),
		Origination:    agent.Origination{AllowedPrefixes: []string{"192.0.2.0/24", "203.0.113.0/24", "2001:db8::/32"}},
		StatusInterval: agent.Duration(200 * time.Millisecond),
		ShutdownGrace:  agent.Duration(-1),
		Logger:         slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	l.r4.AwaitRoute(t, edgeV4, nil)
	l.target.down()
	l.r4.AwaitNoRoute(t, edgeV4)
	l.target.up(t)
	l.r4.AwaitRoute(t, edgeV4, nil)

	want := []string{
		`msg="bgp session established" pop=tokyo subsystem=bgp peer=127.0.0.1`,
		`msg="health check up" pop=tokyo service=edge-dns`,
		`msg="prefix announced" pop=tokyo service=edge-dns prefix=192.0.2.0/24 reason=healthy`,
		`msg="health check down" pop=tokyo service=edge-dns streak=1 reason=`,
		`msg="hold-down started: re-announcing waits" pop=tokyo service=edge-dns holdDown=`,
		`msg="prefix withdrawn" pop=tokyo service=edge-dns prefix=192.0.2.0/24 reason="health check down"`,
		`msg="prefix withdrawn" pop=tokyo service=edge-dns prefix=2001:db8:53::/48 reason="health check down"`,
	}
	speakertest.Await(t, "the failover's log lines", func() bool {
		got := logs.String()
		for _, w := range want {
			if !strings.Contains(got, w) {
				return false
			}
		}
		return strings.Count(got, `msg="prefix announced" pop=tokyo service=edge-dns prefix=192.0.2.0/24`) == 2
	}, func() string { return "log:\n" + logs.String() })
	t.Logf("log of one failover:\n%s", logs.String())
}
