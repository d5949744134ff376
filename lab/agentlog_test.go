package lab

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// agentLine is one line of an agent's log (slog's text format).
type agentLine struct {
	at   time.Time
	msg  string
	peer string // the session's peer, when the line names one
	text string
}

// agentLogPath is pop's agent's log file, which lab.sh appends to across
// restarts.
func (l *labEnv) agentLogPath(pop string) string {
	return filepath.Join(l.dir, "logs", "agent-"+pop+".log")
}

// agentLogSize is the length of pop's agent's log: where the lines written
// from now on start.
func (l *labEnv) agentLogSize(t *testing.T, pop string) int64 {
	t.Helper()
	fi, err := os.Stat(l.agentLogPath(pop))
	if err != nil {
		t.Fatalf("%s's agent log: %v", pop, err)
	}
	return fi.Size()
}

var (
	logTime = regexp.MustCompile(`^time=(\S+)`)
	logMsg  = regexp.MustCompile(` msg="((?:[^"\\]|\\.)*)"`)
	logPeer = regexp.MustCompile(` peer=(\S+)`)
)

// agentLog reads the lines of pop's agent's log from byte offset from on.
func (l *labEnv) agentLog(t *testing.T, pop string, from int64) []agentLine {
	t.Helper()
	b, err := os.ReadFile(l.agentLogPath(pop))
	if err != nil {
		t.Fatalf("%s's agent log: %v", pop, err)
	}
	if from > int64(len(b)) {
		t.Fatalf("%s's agent log is %d bytes, shorter than before (%d)", pop, len(b), from)
	}
	return parseAgentLog(string(b[from:]))
}

func parseAgentLog(s string) []agentLine {
	var lines []agentLine
	for _, text := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		line := agentLine{text: text}
		if m := logTime.FindStringSubmatch(text); m != nil {
			line.at, _ = time.Parse(time.RFC3339Nano, m[1])
		}
		if m := logMsg.FindStringSubmatch(text); m != nil {
			line.msg = m[1]
		}
		if m := logPeer.FindStringSubmatch(text); m != nil {
			line.peer = m[1]
		}
		lines = append(lines, line)
	}
	return lines
}

// first is the first line whose message starts with msg (and that names
// peer, unless it is empty).
func firstLine(lines []agentLine, msg, peer string) (agentLine, bool) {
	for _, l := range lines {
		if strings.HasPrefix(l.msg, msg) && (peer == "" || l.peer == peer) {
			return l, true
		}
	}
	return agentLine{}, false
}

// TestParseAgentLog checks the parser on the agent's log lines; it needs
// no lab.
func TestParseAgentLog(t *testing.T) {
	out := `time=2026-12-05T17:00:26.032Z level=INFO msg="SIGTERM: exiting for a restart; peers keep the routes (SIGINT or SIGUSR1 stop with traffic moving away)"
time=2026-12-05T17:00:27.507Z level=INFO msg="bgp session established" pop=tokyo subsystem=bgp peer=10.101.1.1 asn=64497
`
	lines := parseAgentLog(out)
	if len(lines) != 2 {
		t.Fatalf("parsed %d lines, want 2", len(lines))
	}
	l, ok := firstLine(lines, "bgp session established", "10.101.1.1")
	if !ok || l.at.Sub(lines[0].at) != 1475*time.Millisecond {
		t.Errorf("established line %+v, found %v; want 1.475s after the first", l, ok)
	}
	if !strings.HasPrefix(lines[0].msg, "SIGTERM: exiting for a restart") {
		t.Errorf("first message %q", lines[0].msg)
	}
}
