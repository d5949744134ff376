package lab

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Client probing: an HTTP request and a DNS query every probeEvery, each
// given probeTimeout.
const (
	probeEvery   = 5 * time.Millisecond
	probeTimeout = 100 * time.Millisecond
)

// probeResult is one request of the client, as labprobe prints it.
type probeResult struct {
	kind       string // "http" or "dns"
	start, end time.Time
	pop        string // the PoP that answered; empty on failure
	err        string
}

func (r probeResult) String() string {
	if r.err != "" {
		return fmt.Sprintf("%s at %s failed after %v: %s", r.kind, r.start.Format("15:04:05.000000"), r.end.Sub(r.start).Round(time.Microsecond), r.err)
	}
	return fmt.Sprintf("%s at %s answered by %s in %v", r.kind, r.start.Format("15:04:05.000000"), r.pop, r.end.Sub(r.start).Round(time.Microsecond))
}

// parseProbe parses "KIND START END POP RESULT".
func parseProbe(line string) (probeResult, error) {
	f := strings.SplitN(line, " ", 5)
	if len(f) != 5 || (f[0] != "http" && f[0] != "dns") {
		return probeResult{}, fmt.Errorf("probe line %q: want KIND START END POP RESULT", line)
	}
	start, err1 := strconv.ParseInt(f[1], 10, 64)
	end, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil {
		return probeResult{}, fmt.Errorf("probe line %q: times are not integers", line)
	}
	r := probeResult{kind: f[0], start: time.Unix(0, start), end: time.Unix(0, end)}
	if f[4] == "ok" {
		r.pop = f[3]
	} else {
		r.err = f[4]
	}
	return r, nil
}

// prober is a client's labprobe, asking the service one way (a vantage)
// until t ends.
type prober struct {
	mu      sync.Mutex // guards results and bad
	results []probeResult
	bad     []string
}

// startProber starts v's client asking v's anycast address every every.
func startProber(t *testing.T, l *labEnv, v vantage, every time.Duration) *prober {
	t.Helper()
	p := &prober{}
	startProc(t, "labprobe ("+v.String()+")", p.add, "ip", "netns", "exec", l.ns(v.up.client), filepath.Join(l.bin, "labprobe"),
		"-addr", v.fam.anycast, "-every", every.String(), "-timeout", probeTimeout.String())
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if len(p.bad) > 0 {
			t.Errorf("labprobe (%v) wrote %d lines that are not results, first: %q", v, len(p.bad), p.bad[0])
		}
	})
	return p
}

func (p *prober) add(line string) {
	r, err := parseProbe(line)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.bad = append(p.bad, line)
		return
	}
	p.results = append(p.results, r)
}

// mark is a position in the results: results from it on arrived later.
func (p *prober) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.results)
}

// since returns the results that arrived from mark on.
func (p *prober) since(mark int) []probeResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]probeResult(nil), p.results[mark:]...)
}

// await returns the first result from mark on that satisfies ok.
func (p *prober) await(t *testing.T, what string, mark int, timeout time.Duration, ok func(probeResult) bool) probeResult {
	t.Helper()
	var found probeResult
	next := mark
	await(t, what, timeout, func() bool {
		for _, r := range p.since(next) {
			next++
			if ok(r) {
				found = r
				return true
			}
		}
		return false
	}, func() string { return p.tail(mark) })
	return found
}

// awaitPop waits until an HTTP request and a DNS query, both started at or
// after from, are answered by pop, and returns the later answer's time.
func (p *prober) awaitPop(t *testing.T, pop string, mark int, from time.Time, timeout time.Duration) time.Time {
	t.Helper()
	var last time.Time
	for _, kind := range []string{"http", "dns"} {
		r := p.await(t, fmt.Sprintf("the client's %s answered by %s", kind, pop), mark, timeout, func(r probeResult) bool {
			return r.kind == kind && r.pop == pop && !r.start.Before(from)
		})
		if r.end.After(last) {
			last = r.end
		}
	}
	return last
}

// settle waits until every request started before t has ended: a result
// that started probeTimeout after t has arrived.
func (p *prober) settle(t *testing.T, mark int, at time.Time) {
	t.Helper()
	p.await(t, "requests in flight to end", mark, 10*time.Second, func(r probeResult) bool {
		return r.start.After(at.Add(probeTimeout + 20*time.Millisecond))
	})
}

// tail describes the last few results from mark on.
func (p *prober) tail(mark int) string {
	rs := p.since(mark)
	rs = rs[max(0, len(rs)-6):]
	var b strings.Builder
	fmt.Fprintf(&b, "last results:")
	for _, r := range rs {
		fmt.Fprintf(&b, "\n  %v", r)
	}
	return b.String()
}
