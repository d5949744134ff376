//go:build linux

package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/dnsgslb"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// loadTest runs dnsperf against the server at a fixed rate idle and while
// the snapshot changes every second (a TTL, then an origin's health,
// alternately), -load-for each: one run of each, idle first, or with
// -load-windows N, N windows of each alternating, so that the machine's
// drift over the test weighs on both alike. It prints lost queries and
// latency percentiles of each kind (pooled over its windows, and each
// window's p99), and how long each update took.
func loadTest(o options, srv *server, snap *v1.GslbSnapshot) error {
	g, err := newLoadGen(o, srv, snap)
	if err != nil {
		return err
	}
	defer g.close()
	perf := g.run
	n := o.loadWindows
	if n <= 0 {
		n = max(int(o.loadFor/(5*time.Second)), 1)
	}
	win := o.loadFor / time.Duration(n)
	if win < time.Second || win%time.Second != 0 {
		return fmt.Errorf("-load-for %s over -load-windows %d: each window must be a whole number of seconds", o.loadFor, n)
	}
	if n == 1 {
		fmt.Printf("dnsperf at %d QPS for %s, idle then while applying, %d-query mix over every record with random /24 client subnets:\n", o.loadQPS, o.loadFor, 20000)
	} else {
		fmt.Printf("dnsperf at %d QPS for %s idle and %s applying, in %d windows of %s each, alternating (idle first), %d-query mix over every record with random /24 client subnets:\n",
			o.loadQPS, o.loadFor, o.loadFor, 2*n, win, 20000)
	}
	// Scope tables left out by the start and the updates before are
	// added by background builds: the load starts once there are none,
	// so that the windows measure the updates, not that catching up.
	if !settled(o, srv) {
		return unfinished()
	}
	u := &updater{o: o, srv: srv, cur: snap}
	defer func() { keepStarts(o, u.starts) }()
	// The trace and profile cover the applying run, or every window.
	stopObserving := func() {}
	if n > 1 {
		var err error
		if stopObserving, err = observe(o); err != nil {
			return err
		}
	}
	defer func() { stopObserving() }()
	var idle, busy []perfRun
	// The server's CPU (this process's; dnsperf is a child) in each kind
	// of window.
	var idleCPU, busyCPU time.Duration
	// The part of it on the low-priority threads that decode, build and
	// persist snapshots (dnsgslb.BackgroundCPU): their own CPU time, which
	// other processes on the machine inflate less than the difference.
	var idleBG, busyBG time.Duration
	runs0, idle0 := dnsgslb.BackgroundRuns()
	for w := range n {
		cpu0, bg0 := cpuTime(), dnsgslb.BackgroundCPU()
		out, err := perf(win)
		idleCPU += cpuTime() - cpu0
		idleBG += dnsgslb.BackgroundCPU() - bg0
		if err != nil {
			return err
		}
		idle = append(idle, parsePerf(out))
		keep(o, windowName("idle", w, n), out)
		if n == 1 {
			if stopObserving, err = observe(o); err != nil {
				return err
			}
		}
		cpu0, bg0 = cpuTime(), dnsgslb.BackgroundCPU()
		stop := u.run()
		out, err = perf(win)
		stop()
		busyCPU += cpuTime() - cpu0
		busyBG += dnsgslb.BackgroundCPU() - bg0
		if err != nil {
			return err
		}
		busy = append(busy, parsePerf(out))
		keep(o, windowName("applying", w, n), out)
	}
	if n == 1 {
		fmt.Printf("  %-24s %s\n", "idle", pooled(idle))
		fmt.Printf("  %-24s %s\n", "applying every second", pooled(busy))
	} else {
		fmt.Printf("  %-24s %s\n", "idle p99 by window", windowP99s(idle))
		fmt.Printf("  %-24s %s\n", "applying p99 by window", windowP99s(busy))
		fmt.Printf("  %-24s %s\n", "idle, pooled", pooled(idle))
		fmt.Printf("  %-24s %s\n", "applying, pooled", pooled(busy))
	}
	took := u.took
	slices.Sort(took)
	med, worst := time.Duration(0), time.Duration(0)
	if len(took) > 0 {
		med, worst = took[len(took)/2], took[len(took)-1]
	}
	fmt.Printf("  %-24s %d updates, median %s, slowest %s\n", "updates meanwhile", len(took), dur(med), dur(worst))
	if len(took) > 0 {
		fmt.Printf("  %-24s idle %s, applying %s: %s per update (the difference over the updates)\n", "server CPU",
			dur(idleCPU), dur(busyCPU), dur((busyCPU-idleCPU)/time.Duration(len(took))))
		fmt.Printf("  %-24s idle %s, applying %s: %s per update (decode, build and persist, on their threads)\n", "update threads' CPU",
			dur(idleBG), dur(busyBG), dur((busyBG-idleBG)/time.Duration(len(took))))
		runs, idleRuns := dnsgslb.BackgroundRuns()
		fmt.Printf("  %-24s %d of %d in SCHED_IDLE, the rest at niceness 10 (the machine had less than a quarter of its CPU idle)\n", "update threads' class",
			idleRuns-idle0, runs-runs0)
	}
	return nil
}

// loadGen runs dnsperf against the server at -load-qps, with a query
// file of 20,000 queries over every record of a snapshot.
type loadGen struct {
	o       options
	dir     string
	queries string
	port    string
}

func newLoadGen(o options, srv *server, snap *v1.GslbSnapshot) (*loadGen, error) {
	if _, err := exec.LookPath("dnsperf"); err != nil {
		return nil, fmt.Errorf("-load-qps needs dnsperf (apt-get install dnsperf)")
	}
	dir, err := os.MkdirTemp("", "dnsscale-load")
	if err != nil {
		return nil, err
	}
	g := &loadGen{o: o, dir: dir, queries: filepath.Join(dir, "queries.bin")}
	if err := os.WriteFile(g.queries, queryFile(snap, 20000, o.seed, o.dnssec), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	udp, _ := srv.s.Addr()
	g.port = strconv.Itoa(int(udp.(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()))
	return g, nil
}

func (g *loadGen) close() { os.RemoveAll(g.dir) }

// run runs dnsperf for d and returns its output. dnsperf writes a line
// for every answer (-v): into a file, not a pipe, so that no goroutine of
// this process (the server's) wakes for each of them and grows a buffer
// while latency is measured.
func (g *loadGen) run(d time.Duration) (string, error) {
	f, err := os.CreateTemp(g.dir, "dnsperf-*.out")
	if err != nil {
		return "", err
	}
	defer f.Close()
	cmd := exec.Command("dnsperf", "-s", "127.0.0.1", "-p", g.port, "-d", g.queries, "-B",
		"-l", strconv.Itoa(int(d/time.Second)), "-Q", strconv.Itoa(g.o.loadQPS), "-v")
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Run()
	out, rerr := os.ReadFile(f.Name())
	if err == nil {
		err = rerr
	}
	if err != nil {
		return "", fmt.Errorf("dnsperf: %w\n%s", err, out)
	}
	return string(out), nil
}

// settled waits until the server's index has every scope table (the
// background builds after a start, an update or a reload are done), and
// prints how long that took; false when the run's time ran out first.
func settled(o options, srv *server) bool {
	settle := time.Now()
	for ix := srv.s.Index(); ix.Quick() || ix.Unfinished(); ix = srv.s.Index() {
		if time.Since(settle) > o.left() {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("  %-24s %s\n", "index settled", dur(time.Since(settle)))
	return true
}

// observe starts the -load-trace and -load-cpuprofile of the server, if
// asked; the function returned stops them, once.
func observe(o options) (stop func(), err error) {
	var stops []func()
	stop = func() {
		for _, f := range stops {
			f()
		}
		stops = nil
	}
	if o.loadTrace != "" {
		f, err := os.Create(o.loadTrace)
		if err != nil {
			return stop, err
		}
		if err := trace.Start(f); err != nil {
			f.Close()
			return stop, err
		}
		stops = append(stops, func() { trace.Stop(); f.Close() })
	}
	if o.loadProfile != "" {
		f, err := os.Create(o.loadProfile)
		if err != nil {
			return stop, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return stop, err
		}
		stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
	}
	return stop, nil
}

// windowName names a load run's output file (see keep).
func windowName(kind string, w, n int) string {
	if n == 1 {
		return kind
	}
	return fmt.Sprintf("%s-%d", kind, w+1)
}

// updater applies a change to the server's snapshot every second while it
// runs, the first as it starts: a TTL, then an origin's health,
// alternately, carrying on from one run to the next.
type updater struct {
	o   options
	srv *server
	cur *v1.GslbSnapshot
	i   int
	// took is how long each Update took; starts when each began
	// (CLOCK_MONOTONIC, as perf record -k CLOCK_MONOTONIC).
	took   []time.Duration
	starts []int64
}

// run starts applying changes; the function returned stops and waits.
func (u *updater) run() (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			u.apply()
			select {
			case <-quit:
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// apply makes and applies the next change.
func (u *updater) apply() {
	region := trace.StartRegion(context.Background(), "update")
	defer region.End()
	if u.o.loadOut != "" {
		var ts unix.Timespec
		_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
		u.starts = append(u.starts, ts.Nano())
	}
	i, cur := u.i, u.cur
	u.i++
	change := func() *v1.GslbSnapshot {
		next := proto.Clone(cur).(*v1.GslbSnapshot)
		next.Revision++
		if i%2 == 0 {
			next.GetRecords()[i%len(next.GetRecords())].Spec.Ttl++
		} else {
			o := next.GetOrigins()[i%len(next.GetOrigins())]
			o.Healthy = !o.GetHealthy()
		}
		return next
	}
	// As the server's feed decodes a snapshot from the controller: at
	// the build's low priority, in the normal class.
	next := dnsgslb.InBackgroundWaiting(change)
	t0 := time.Now()
	if err := u.srv.s.Update(next); err != nil {
		fmt.Printf("  update: %v\n", err)
	}
	u.took = append(u.took, time.Since(t0))
	u.cur = next
}

// perfRun is what one dnsperf run reported: queries sent and lost, and
// the latency of each answer, in microseconds.
type perfRun struct {
	sent, lost int
	lat        []float64
}

// parsePerf reads dnsperf's sent and lost counts and its per-query
// latencies (-v lines "> ... LATENCY"). A count it does not find is -1.
func parsePerf(out string) perfRun {
	r := perfRun{sent: -1, lost: -1}
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "> ") {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			r.lat = append(r.lat, v*1e6)
		}
	}
	if m := sentRE.FindStringSubmatch(out); m != nil {
		r.sent, _ = strconv.Atoi(m[1])
	}
	if m := lostRE.FindStringSubmatch(out); m != nil {
		r.lost, _ = strconv.Atoi(m[1])
	}
	return r
}

// percentile is the p-quantile of sorted latencies; 0 for none.
func percentile(lat []float64, p float64) float64 {
	if len(lat) == 0 {
		return 0
	}
	return lat[min(int(float64(len(lat))*p), len(lat)-1)]
}

// pooled sums the runs' sent and lost counts and gives the p50, p99 and
// maximum of their latencies taken together.
func pooled(runs []perfRun) string {
	var lat []float64
	sent, lost := 0, 0
	for _, r := range runs {
		lat = append(lat, r.lat...)
		if r.sent < 0 || sent < 0 {
			sent = -1
		} else {
			sent += r.sent
		}
		if r.lost < 0 || lost < 0 {
			lost = -1
		} else {
			lost += r.lost
		}
	}
	slices.Sort(lat)
	count := func(n int) string {
		if n < 0 {
			return "?"
		}
		return strconv.Itoa(n)
	}
	lostPct := "?"
	if sent > 0 && lost >= 0 {
		lostPct = fmt.Sprintf("%.2f%%", 100*float64(lost)/float64(sent))
	}
	return fmt.Sprintf("sent %s, lost %s (%s), latency p50 %.0f µs, p99 %.0f µs, max %.0f µs",
		count(sent), count(lost), lostPct, percentile(lat, 0.5), percentile(lat, 0.99), percentile(lat, 1))
}

// windowP99s is the p99 latency of each run, in order.
func windowP99s(runs []perfRun) string {
	var b strings.Builder
	for i, r := range runs {
		lat := slices.Sorted(slices.Values(r.lat))
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%.0f", percentile(lat, 0.99))
	}
	b.WriteString(" µs")
	return b.String()
}

var (
	lostRE = regexp.MustCompile(`Queries lost:\s+(\d+) \(([0-9.]+)%\)`)
	sentRE = regexp.MustCompile(`Queries sent:\s+(\d+)`)
)

// queryFile is n A queries for random records of snap with random /24
// client subnets, in dnsperf's binary format (a length, then the message),
// with the DO bit if do.
func queryFile(snap *v1.GslbSnapshot, n int, seed uint64, do bool) []byte {
	r := rand.New(rand.NewPCG(seed, 77))
	zone := snap.GetZones()[0].GetSpec().GetZone()
	var out []byte
	for range n {
		rec := snap.GetRecords()[r.IntN(len(snap.GetRecords()))].GetSpec()
		qtype := dns.TypeA
		if rec.GetType() == v1.RecordType_RECORD_TYPE_AAAA {
			qtype = dns.TypeAAAA
		}
		ecs := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(1 + r.IntN(222)), byte(r.IntN(256)), byte(r.IntN(256)), 0}), 24)
		name := rec.GetName()
		if !strings.HasSuffix(name, ".") {
			name += "." + zone
		}
		m := query(name, ecs, do)
		m.Question[0].Qtype = qtype
		m.Id = uint16(r.Uint32())
		b, err := m.Pack()
		if err != nil {
			continue
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	return out
}

// keep writes dnsperf's output of a load run to -load-out, if given, for
// a closer look at when the slow answers came.
func keep(o options, run, out string) {
	if o.loadOut == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(o.loadOut, "dnsperf-"+run+".txt"), []byte(out), 0o644); err != nil {
		fmt.Printf("  -load-out: %v\n", err)
	}
}

// keepStarts writes when each update started (CLOCK_MONOTONIC, ns, a line
// each) to -load-out, to line them up with a perf record -k
// CLOCK_MONOTONIC of the same run.
func keepStarts(o options, starts []int64) {
	if o.loadOut == "" {
		return
	}
	var b strings.Builder
	for _, t := range starts {
		fmt.Fprintln(&b, t)
	}
	if err := os.WriteFile(filepath.Join(o.loadOut, "updates.txt"), []byte(b.String()), 0o644); err != nil {
		fmt.Printf("  -load-out: %v\n", err)
	}
}
