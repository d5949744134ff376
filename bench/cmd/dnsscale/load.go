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

// loadTest runs dnsperf against the server at a fixed rate twice: idle,
// then while the snapshot changes every second (a TTL, then an origin's
// health, alternately), and prints lost queries and latency percentiles of
// each run, and how long each update took.
func loadTest(o options, srv *server, snap *v1.GslbSnapshot) error {
	if _, err := exec.LookPath("dnsperf"); err != nil {
		return fmt.Errorf("-load-qps needs dnsperf (apt-get install dnsperf)")
	}
	dir, err := os.MkdirTemp("", "dnsscale-load")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	queries := filepath.Join(dir, "queries.bin")
	if err := os.WriteFile(queries, queryFile(snap, 20000, o.seed, o.dnssec), 0o644); err != nil {
		return err
	}
	udp, _ := srv.s.Addr()
	port := strconv.Itoa(int(udp.(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()))
	// dnsperf writes a line for every answer (-v): into a file, not a
	// pipe, so that no goroutine of this process (the server's) wakes
	// for each of them and grows a buffer while latency is measured.
	perf := func() (string, error) {
		f, err := os.CreateTemp(dir, "dnsperf-*.out")
		if err != nil {
			return "", err
		}
		defer f.Close()
		cmd := exec.Command("dnsperf", "-s", "127.0.0.1", "-p", port, "-d", queries, "-B",
			"-l", strconv.Itoa(int(o.loadFor/time.Second)), "-Q", strconv.Itoa(o.loadQPS), "-v")
		cmd.Stdout, cmd.Stderr = f, f
		err = cmd.Run()
		out, rerr := os.ReadFile(f.Name())
		if err == nil {
			err = rerr
		}
		return string(out), err
	}
	fmt.Printf("dnsperf at %d QPS for %s, %d-query mix over every record with random /24 client subnets:\n", o.loadQPS, o.loadFor, 20000)
	idle, err := perf()
	if err != nil {
		return fmt.Errorf("dnsperf: %w\n%s", err, idle)
	}
	fmt.Printf("  %-24s %s\n", "idle", perfSummary(idle))
	keep(o, "idle", idle)

	if o.loadTrace != "" {
		f, err := os.Create(o.loadTrace)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			return err
		}
		defer trace.Stop()
	}
	stop := make(chan struct{})
	done := make(chan []time.Duration)
	go func() {
		var took []time.Duration
		var starts []int64 // CLOCK_MONOTONIC, as perf record -k CLOCK_MONOTONIC
		defer func() { keepStarts(o, starts) }()
		cur := snap
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- took
				return
			case <-tick.C:
			}
			region := trace.StartRegion(context.Background(), "update")
			if o.loadOut != "" {
				var ts unix.Timespec
				_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
				starts = append(starts, ts.Nano())
			}
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
			// As the server's feed decodes a snapshot from the
			// controller: at the build's low priority.
			next := dnsgslb.InBackground(change)
			t0 := time.Now()
			if err := srv.s.Update(next); err != nil {
				fmt.Printf("  update: %v\n", err)
			}
			took = append(took, time.Since(t0))
			region.End()
			cur = next
		}
	}()
	busy, err := perf()
	close(stop)
	took := <-done
	if err != nil {
		return fmt.Errorf("dnsperf: %w\n%s", err, busy)
	}
	slices.Sort(took)
	med, worst := time.Duration(0), time.Duration(0)
	if len(took) > 0 {
		med, worst = took[len(took)/2], took[len(took)-1]
	}
	fmt.Printf("  %-24s %s\n", "applying every second", perfSummary(busy))
	keep(o, "applying", busy)
	fmt.Printf("  %-24s %d updates, median %s, slowest %s\n", "updates meanwhile", len(took), dur(med), dur(worst))
	return nil
}

var (
	lostRE = regexp.MustCompile(`Queries lost:\s+(\d+) \(([0-9.]+)%\)`)
	sentRE = regexp.MustCompile(`Queries sent:\s+(\d+)`)
)

// perfSummary is dnsperf's sent and lost counts and the p50, p99 and
// maximum of its per-query latencies (-v lines "> ... LATENCY").
func perfSummary(out string) string {
	var lat []float64
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "> ") {
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			lat = append(lat, v*1e6)
		}
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(int(float64(len(lat))*p), len(lat)-1)]
	}
	sent, lost := "?", "?"
	if m := sentRE.FindStringSubmatch(out); m != nil {
		sent = m[1]
	}
	if m := lostRE.FindStringSubmatch(out); m != nil {
		lost = m[1] + " (" + m[2] + "%)"
	}
	return fmt.Sprintf("sent %s, lost %s, latency p50 %.0f µs, p99 %.0f µs, max %.0f µs", sent, lost, pct(0.5), pct(0.99), pct(1))
}

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
