//go:build linux

// Command fleet simulates PoP agents against a real controller, to measure
// what a fleet costs it: the controller (`anyctl controller`, embedded
// etcd) runs as its own process, so that its CPU time and RSS are its own;
// this program holds one gRPC connection and Agent stream per simulated
// PoP, takes its config and sends a report every -interval, the same
// report each time but for what moves on every real report (the time, a
// check's streak and probe duration).
//
// For each -agents count it measures: connect time (every stream dialled
// at once until each has its first config), steady-state controller CPU
// and RSS and etcd writes over -window, and the fan-out of -fanout changes
// (a service every even PoP runs changes its health check; the time from
// Apply to each agent holding the new config). Then it soaks: it keeps the
// fleet reporting (-soak: 2 minutes by default, 1h for the hour-long soak,
// 0 for none) and logs etcd's database size, revision and the controller's
// RSS and CPU every -soak-every.
//
//	go run ./bench/fleet                               # 1,000 agents, 10 services
//	go run ./bench/fleet -agents 1000,3000,10000
//	go run ./bench/fleet -agents 1000 -services 100 -soak 1h
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	agents     []int
	services   int
	interval   time.Duration
	settle     time.Duration
	window     time.Duration
	fanout     int
	soak       time.Duration
	soakEvery  time.Duration
	anyctl     string
	connTimout time.Duration
	inprocess  bool
	perConn    int
	cpuprofile string
	cluster    bool
	replicas   int
	failover   bool
	keep       bool
	// fullReports sends every report in full, as agents that predate
	// StatusUnchanged do.
	fullReports bool
	// fanoutProfile receives, with -inprocess, a CPU profile of the
	// fan-outs.
	fanoutProfile string
	// heapProfile receives, with -inprocess, a heap profile taken after
	// the steady-state window, heapProfile.settled one before it and
	// heapProfile.fanout one after the fan-outs (their differences are
	// what the window and the fan-outs allocated).
	heapProfile string
}

func main() {
	var o options
	agents := flag.String("agents", "1000", "comma-separated agent counts, each run against a fresh controller")
	flag.IntVar(&o.services, "services", 10, "anycast services (half on every PoP, half on one region of ten)")
	flag.DurationVar(&o.interval, "interval", 5*time.Second, "how often each agent reports")
	flag.DurationVar(&o.settle, "settle", 20*time.Second, "wait after every agent connected before measuring")
	flag.DurationVar(&o.window, "window", 30*time.Second, "steady-state measuring window")
	flag.IntVar(&o.fanout, "fanout", 5, "changes to time the fan-out of")
	flag.DurationVar(&o.soak, "soak", 2*time.Minute, "after the measurements, keep the fleet reporting this long, logging every -soak-every (0: no soak; 1h for the hour-long soak)")
	flag.DurationVar(&o.soakEvery, "soak-every", time.Minute, "soak logging interval")
	flag.StringVar(&o.anyctl, "anyctl", "", "anyctl binary (default: built into a temporary directory)")
	flag.DurationVar(&o.connTimout, "connect-timeout", 5*time.Minute, "give up when the agents are not all connected by then")
	flag.IntVar(&o.perConn, "streams-per-conn", 1, "agent streams sharing one connection (1: each its own, as real agents; more spares this program and the controller the cost of connections)")
	flag.BoolVar(&o.fullReports, "full-reports", false, "send every report in full, as agents before StatusUnchanged did (default: an unchanged report goes as StatusUnchanged, as the agent sends it)")
	flag.BoolVar(&o.inprocess, "inprocess", false, "run the controller in this process (CPU and RSS are then the whole process's, agents included)")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "with -inprocess, write a CPU profile of the steady-state window to this file")
	etcd := flag.String("etcd", "embedded", "embedded: each controller's own embedded etcd; cluster: three etcd members as processes (controller/etcdembed/etcdmember, fsync on) that the replicas share through --etcd-endpoints")
	flag.IntVar(&o.replicas, "replicas", 1, "controller replicas (more than one with -etcd cluster); agents are given every replica's address and spread over them")
	flag.BoolVar(&o.failover, "failover", false, "after the fan-out, SIGKILL the leading replica and time the new leader's first act and every agent of the dead replica streaming again (-etcd cluster, -replicas 2 or more)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (the controllers' and etcd members' logs and data) and say where")
	flag.StringVar(&o.fanoutProfile, "fanout-cpuprofile", "", "with -inprocess, write a CPU profile of the fan-outs (from the first Apply to the last agent holding the last change) to this file")
	flag.StringVar(&o.heapProfile, "heapprofile", "", "with -inprocess, write a heap profile (after a collection) at the end of the steady-state window to this file, one before it to FILE.settled and one after the fan-outs to FILE.fanout (go tool pprof -sample_index=alloc_space -base FILE FILE.fanout: what the fan-outs allocated)")
	flag.Parse()
	switch *etcd {
	case "embedded":
	case "cluster":
		o.cluster = true
	default:
		usage("-etcd %q: want embedded or cluster", *etcd)
	}
	switch {
	case o.replicas < 1:
		usage("-replicas %d: want 1 or more", o.replicas)
	case o.replicas > 1 && !o.cluster:
		usage("-replicas %d: several replicas share an etcd cluster: add -etcd cluster", o.replicas)
	case o.failover && o.replicas < 2:
		usage("-failover needs another replica to fail over to: add -replicas 2 (with -etcd cluster)")
	case o.inprocess && o.cluster:
		usage("-inprocess runs one controller on its embedded etcd: leave out -etcd cluster")
	}
	for _, s := range strings.Split(*agents, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			usage("-agents %q: want positive counts, comma-separated", *agents)
		}
		o.agents = append(o.agents, n)
	}
	if !o.inprocess {
		holdCollector()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
}

// simMemoryLimit is the heap this program lets grow before it collects
// garbage.
const simMemoryLimit = 8 << 30

// holdCollector keeps this program's garbage collector out of the
// measurements: the simulated agents stand in for thousands of machines
// but run on the controller's cores, and a collection of their heap
// (about 870 MB at 10,000 agents) took 3.3 s of CPU in the middle of a
// fan-out, CPU the controller then did not get. The collector runs only
// when the heap reaches simMemoryLimit. Not with -inprocess: the
// controller then shares this heap and keeps its own settings. GOGC and
// GOMEMLIMIT in the environment are left to the controllers this program
// starts.
func holdCollector() {
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(simMemoryLimit)
}

func usage(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "fleet: "+format+"\n", args...)
	os.Exit(2)
}
