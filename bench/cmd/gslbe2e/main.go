//go:build linux

// Command gslbe2e measures the whole GSLB path at City scale, from a
// change's start to the first DNS answer that shows it: a real controller
// (`anyctl controller`, its embedded etcd) and a real GeoDNS server
// (`anyctl dns`, subscribed to the controller's GSLB feed, with a
// GeoIP2-City-shaped database and a state directory), each its own process
// on loopback, so that each one's CPU time is its own (/proc/PID/stat).
//
// It applies bench/gslbscale's deployment through the Admin API as
// `anyctl apply` does (PoPs, origins in metros over every continent, one
// zone, -records GslbRecords), connects one simulated agent per PoP on the
// Agent stream (reporting its origin probes, as bench/fleet's agents
// report), starts the DNS server with an empty state directory and times
// its first answer through the feed; then, -reps times each, it times:
//
//   - a record's TTL changed by an Apply, from the Apply's return;
//   - the address of the origin answered changed by an Apply, from the
//     Apply's return;
//   - that origin going down as the fleet sees it: one agent short of the
//     quorum reports it down first, then the time runs from the report
//     that tips the quorum being sent; and back up, from the report that
//     ends the quorum.
//
// Each is timed to the first UDP answer (a query with a fixed EDNS Client
// Subnet every -poll) that shows the change, and split at the stages the
// change passes: the snapshot frame's arrival at a second feed subscriber
// of this program (the controller has compiled and sent it) and the DNS
// server's "gslb snapshot applied" log line (decoded, compiled, served
// and persisted). The CPU of each process is read at the answer and once
// both are quiet again (background builds included).
//
//	go run ./bench/cmd/gslbe2e                            # 3M networks, 100k locations, 5,000 records, 50 origins
//	go run ./bench/cmd/gslbe2e -networks 100000 -locations 10000 -records 500
//	go run ./bench/cmd/gslbe2e -anyctl /tmp/anyctl -keep  # a built binary; logs kept
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type options struct {
	networks, locations, records, origins int
	seed                                  uint64
	db                                    string
	anyctl                                string
	reps                                  int
	poll                                  time.Duration
	ecs                                   string
	interval                              time.Duration
	limit                                 time.Duration
	keep                                  bool
}

func main() {
	var o options
	flag.IntVar(&o.networks, "networks", 3_000_000, "networks in the generated GeoIP database")
	flag.IntVar(&o.locations, "locations", 100_000, "distinct locations in the generated GeoIP database")
	flag.IntVar(&o.records, "records", 5000, "GslbRecords applied")
	flag.IntVar(&o.origins, "origins", 50, "GslbOrigins applied")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the database and the objects")
	flag.StringVar(&o.db, "db", "", "use this mmdb file instead of the generated one (cached in $ANYCTL_BENCH_CACHE, default ~/.cache/anyctl-bench)")
	flag.StringVar(&o.anyctl, "anyctl", "", "anyctl binary to run (default: go build ./cli/anyctl into the run's temporary directory)")
	flag.IntVar(&o.reps, "reps", 5, "repetitions of each change")
	flag.DurationVar(&o.poll, "poll", 2*time.Millisecond, "interval of the queries awaiting a change")
	flag.StringVar(&o.ecs, "ecs", "81.2.69.0/24", "EDNS Client Subnet of the queries")
	flag.DurationVar(&o.interval, "report-every", 5*time.Second, "how often each simulated agent reports when nothing changes")
	flag.DurationVar(&o.limit, "limit", time.Minute, "give up on a change whose answer has not come after this long")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (logs, etcd data, the DNS server's state)")
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), `Usage: gslbe2e [flags]

Runs anyctl controller (embedded etcd) and anyctl dns (GeoIP database, fed
by the controller) as processes on loopback, applies a City-scale GSLB
deployment, simulates one agent per PoP, then times, -reps times each, a
record's TTL change and an origin's address change (from the Apply's
return) and the origin going down and up by the agents' quorum (from the
tipping report), to the first UDP answer showing it, with each process's
CPU. Also the DNS server's cold start to its first answer.

`)
		flag.PrintDefaults()
	}
	flag.Parse()
	switch {
	case o.reps < 1:
		fmt.Fprintf(os.Stderr, "gslbe2e: -reps %d: want 1 or more\n", o.reps)
		os.Exit(2)
	case o.poll <= 0:
		fmt.Fprintf(os.Stderr, "gslbe2e: -poll %v: want more than 0\n", o.poll)
		os.Exit(2)
	case o.records < 1 || o.origins < 2:
		fmt.Fprintf(os.Stderr, "gslbe2e: -records %d -origins %d: want a record and two origins at least\n", o.records, o.origins)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gslbe2e:", err)
		os.Exit(1)
	}
}
