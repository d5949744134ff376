package lab

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// events is a list of timestamped lines, filled by a background process.
type events struct {
	mu    sync.Mutex // guards list and ready
	list  []event
	ready bool
}

type event struct {
	at   time.Time
	line string
}

func (e *events) add(ev event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
}

func (e *events) setReady() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ready = true
}

func (e *events) isReady() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ready
}

// first returns the first event at or after from that satisfies ok.
func (e *events) first(from time.Time, ok func(event) bool) (event, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.list {
		if !ev.at.Before(from) && (ok == nil || ok(ev)) {
			return ev, true
		}
	}
	return event{}, false
}

// await waits for first to find an event.
func (e *events) await(t *testing.T, what string, from time.Time, timeout time.Duration, ok func(event) bool) time.Time {
	t.Helper()
	var found event
	await(t, what, timeout, func() bool {
		var have bool
		found, have = e.first(from, ok)
		return have
	}, func() string {
		return fmt.Sprintf("%d events, none after %s", e.count(), from.Format("15:04:05.000000"))
	})
	return found.at
}

func (e *events) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.list)
}

// startUpdateCapture records when each BGP UPDATE leaves pop for v's
// router on v's session, captured with tcpdump on the PoP's side of the
// link. The filter matches segments from the PoP to port 179 whose payload
// starts with a BGP message of type 2 (UPDATE); a withdrawal is one small
// message, alone in its segment. It returns nil when tcpdump is not
// installed.
func startUpdateCapture(t *testing.T, l *labEnv, v vantage, pop string) *events {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Logf("tcpdump not installed: the failover time is not split into the agent's and the router's share")
		return nil
	}
	e := &events{}
	// The BGP type is byte 18 of the message. pcap's tcp[] reaches into
	// IPv4 only; over IPv6 (no extension headers here) the TCP header is
	// at ip6[40].
	bgpType := "tcp[((tcp[12] & 0xf0) >> 2) + 18]"
	if v.fam == ipv6 {
		bgpType = "ip6[40 + ((ip6[52] & 0xf0) >> 2) + 18]"
	}
	filter := fmt.Sprintf("src host %s and tcp dst port 179 and %s = 2", v.popAddr(pop), bgpType)
	startProc(t, fmt.Sprintf("tcpdump in %s (%v)", pop, v), func(line string) {
		if strings.Contains(line, "listening on") {
			e.setReady()
			return
		}
		if at, ok := parseEpochMicros(strings.SplitN(line, " ", 2)[0]); ok {
			e.add(event{at: at, line: line})
		}
	}, "ip", "netns", "exec", l.ns(pop), "tcpdump", "-i", "to-"+v.up.ns, "-n", "-l", "-tt",
		"--immediate-mode", "--time-stamp-precision=micro", filter)
	await(t, fmt.Sprintf("tcpdump to listen in %s (%v)", pop, v), 10*time.Second, e.isReady, func() string { return "no \"listening on\" line" })
	return e
}

// parseEpochMicros parses tcpdump -tt's "SECONDS.MICROSECONDS".
func parseEpochMicros(s string) (time.Time, bool) {
	sec, usec, ok := strings.Cut(s, ".")
	if !ok || len(usec) != 6 {
		return time.Time{}, false
	}
	a, err1 := strconv.ParseInt(sec, 10, 64)
	b, err2 := strconv.ParseInt(usec, 10, 64)
	if err1 != nil || err2 != nil {
		return time.Time{}, false
	}
	return time.Unix(a, b*1000), true
}

// startRouteMonitor records the kernel route changes for v's anycast prefix
// in v's router, timestamped by ip monitor when it reads them.
func startRouteMonitor(t *testing.T, l *labEnv, v vantage) *events {
	t.Helper()
	e := &events{}
	startProc(t, "ip monitor in "+v.up.ns+" ("+v.String()+")", func(line string) {
		// "[2006-01-02T15:04:05.000000] 192.0.2.0/24 nhid 20 via ..."
		stamp, rest, ok := strings.Cut(strings.TrimPrefix(line, "["), "] ")
		if !ok || !strings.Contains(rest, v.fam.prefix+" ") {
			return
		}
		if at, err := time.ParseInLocation("2006-01-02T15:04:05.000000", stamp, time.Local); err == nil {
			e.add(event{at: at, line: rest})
		}
	}, "ip", "-n", l.ns(v.up.ns), "-ts", "monitor", "route")
	return e
}

// routeVia matches a kernel route to v's anycast prefix through pop.
func (v vantage) routeVia(pop string) func(event) bool {
	return func(ev event) bool {
		return !strings.HasPrefix(ev.line, "Deleted") && strings.Contains(ev.line, "via "+v.popAddr(pop)+" ")
	}
}
