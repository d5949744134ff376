//go:build linux

// Command dnsscale measures the GeoDNS server at production scale: a
// GeoIP2-City-shaped database of millions of networks and ~100,000
// locations (generated once by bench/gslbscale and cached) and a snapshot
// of thousands of records over dozens of origins. It prints the time to
// read the database (geo.OpenDB); the time, CPU and memory (Go heap in use,
// RSS and peak RSS from /proc/self/status) of a cold index.Compile; the
// same for a compile after one record's TTL changes and after one origin's
// health flips, the previous index still held as a server holds it; then
// it starts the real server on loopback and times New, Update and the first
// answer to a UDP query, and its Update after each change. -timeout bounds
// the whole run once the database is ready: a step still running then is
// reported as not finished and the run stops there.
//
// With -dnssec the zones are signed (a key made for each, or the keys of
// -dnssec-keys): the compiles are timed unsigned, then signed, cold and
// after the origin goes down (the signed index before it given, as the
// server gives it), and the server answers queries with the DO bit. With
// or without, it times how long an origin going down takes to reach an
// answer over UDP, from the Update call. -example measures the example
// deployment (deploy/examples) instead of a generated snapshot.
//
//	go run ./bench/cmd/dnsscale                         # 3M networks, 100k locations, 5,000 records, 50 origins
//	go run ./bench/cmd/dnsscale -networks 100000 -locations 10000
//	go run ./bench/cmd/dnsscale -db GeoIP2-City.mmdb    # a real database
//	go run ./bench/cmd/dnsscale -dnssec                 # also signed
//	go run ./bench/cmd/dnsscale -dnssec -example        # the example zone, signed
package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/bench/gslbscale"
	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/index"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

type options struct {
	networks, locations, records, origins int
	seed                                  uint64
	db                                    string
	timeout                               time.Duration
	deadline                              time.Time
	serve, genOnly, library               bool
	restartFrom                           string
	loadQPS, loadWindows                  int
	loadFor                               time.Duration
	loadTrace                             string
	loadProfile                           string
	loadOut                               string
	cpuProfile, memProfile                string
	ecs                                   string
	dnssec, example, reload               bool
	keyDir                                string
	keepState                             string
}

func main() {
	var o options
	flag.IntVar(&o.networks, "networks", 3_000_000, "networks in the generated GeoIP database")
	flag.IntVar(&o.locations, "locations", 100_000, "distinct locations in the generated GeoIP database")
	flag.IntVar(&o.records, "records", 5000, "GslbRecords in the snapshot")
	flag.IntVar(&o.origins, "origins", 50, "origins in the snapshot")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the database and the snapshot")
	flag.StringVar(&o.db, "db", "", "use this mmdb file instead of a generated one")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "stop the run this long after the database is ready, reporting the step then running as not finished")
	flag.BoolVar(&o.serve, "serve", true, "also start the real server on loopback and time its first answer and updates")
	flag.BoolVar(&o.library, "library", true, "time geo.OpenDB and index.Compile in this process first (false: only the server runs here, so the process's RSS is the server's)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the cold compile (finished or not) to this file, and of the restart to this file with .restart appended")
	flag.StringVar(&o.memProfile, "memprofile", "", "write a heap profile after the cold compile to this file")
	flag.StringVar(&o.ecs, "ecs", "81.2.69.0/24", "client subnet of the server's test query")
	flag.IntVar(&o.loadQPS, "load-qps", 0, "with -serve, also run dnsperf at this rate, idle and while the snapshot changes every second (0: no load test)")
	flag.DurationVar(&o.loadFor, "load-for", 20*time.Second, "how long the load test runs dnsperf idle, and as long while applying")
	flag.IntVar(&o.loadWindows, "load-windows", 0, "split each kind of load run into this many windows, alternating idle and applying, and pool each kind's latencies (1: one idle run, then one applying run; 0: windows of 5 s)")
	flag.StringVar(&o.loadTrace, "load-trace", "", "write a Go execution trace (runtime/trace) of the server while dnsperf runs (from the applying run on, or with -load-windows over every window) to this file, updates marked as regions")
	flag.StringVar(&o.loadProfile, "load-cpuprofile", "", "write a CPU profile of the server while dnsperf runs (from the applying run on, or with -load-windows over every window) to this file")
	flag.StringVar(&o.loadOut, "load-out", "", "write dnsperf's output of each load run (one line a query, in the order answered) to this directory")
	flag.BoolVar(&o.reload, "geoip-reload", true, "with -serve, also replace the GeoIP database by another of the same size (-seed + 1), renamed over the path, and time its reload; with -load-qps, under load")
	flag.BoolVar(&o.dnssec, "dnssec", false, "also sign the zones, with a key made for each, and ask with the DO bit")
	flag.StringVar(&o.keyDir, "dnssec-keys", "", "sign with the keys in this directory (as anyctl dns --dnssec-keys); implies -dnssec")
	flag.BoolVar(&o.example, "example", false, "measure the example deployment (deploy/examples) instead of a generated snapshot (-records, -origins unused)")
	flag.BoolVar(&o.genOnly, "gen-only", false, "only generate the database into the cache (what the child process does)")
	flag.StringVar(&o.keepState, "keep-state", "", "at the end, copy the state the server persisted (its snapshot and prefix table) into this directory, for bench/cmd/startstop")
	flag.StringVar(&o.restartFrom, "restart-from", "", "only restart a server from this state directory and time it (what the child process does)")
	flag.Parse()
	o.dnssec = o.dnssec || o.keyDir != ""
	var err error
	switch {
	case o.genOnly:
		err = generateOnly(o)
	case o.restartFrom != "":
		err = restartOnly(o)
	default:
		err = run(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dnsscale:", err)
		os.Exit(1)
	}
}

// left is the time the run has left.
func (o *options) left() time.Duration { return max(time.Until(o.deadline), 0) }

// unfinished is printed when a step times out; the run stops there, since
// the step keeps using the CPU in the background.
func unfinished() error {
	fmt.Println("stopped: the step above did not finish within -timeout of the start")
	return nil
}

func run(o options) error {
	ecs, err := netip.ParsePrefix(o.ecs)
	if err != nil {
		return fmt.Errorf("-ecs: %w", err)
	}
	fmt.Printf("dnsscale: %d networks, %d locations, %d records, %d origins, seed %d; GOMAXPROCS %d; timeout %s; example %t; dnssec %t\n",
		o.networks, o.locations, o.records, o.origins, o.seed, runtime.GOMAXPROCS(0), o.timeout, o.example, o.dnssec)
	dbPath := o.db
	if dbPath == "" {
		if dbPath, err = database(o); err != nil {
			return err
		}
	}
	o.deadline = time.Now().Add(o.timeout)

	start := time.Now()
	snap, err := snapshot(o)
	if err != nil {
		return err
	}
	fmt.Printf("%-26s %d records over %d origins, %d PoPs: %s protobuf, built in %s\n",
		"snapshot", len(snap.GetRecords()), len(snap.GetOrigins()), len(snap.GetPops()), mib(uint64(proto.Size(snap))), dur(time.Since(start)))

	ttl := proto.Clone(snap).(*v1.GslbSnapshot)
	ttl.Revision++
	changed := ttl.GetRecords()[0]
	changed.Spec.Ttl++
	flip, name := flipped(ttl)
	q := query(firstName(snap), ecs, o.dnssec)
	keyDir, cleanup, err := keyDirFor(o, snap)
	if err != nil {
		return err
	}
	defer cleanup()
	o.keyDir = keyDir
	if !o.library {
		return serve(o, dbPath, snap, ttl, flip, q)
	}

	resetPeak()
	var db *geo.DB
	t, err := timed(o.left(), func() error {
		var err error
		db, err = geo.OpenDB(dbPath)
		return err
	})
	if err != nil {
		return err
	}
	if !t.done {
		fmt.Printf("%-26s %s\n", "open db", t)
		return unfinished()
	}
	v4, v6 := db.Networks()
	fmt.Printf("%-26s %s: %d IPv4 + %d IPv6 networks\n  %s\n", "open db", t, v4, v6, measureMem())

	ix, err := coldCompile(o, snap, db)
	if err != nil || ix == nil {
		return err
	}
	table := ix.Table()
	fmt.Printf("  index: %d location classes, %d IPv4 + %d IPv6 prefix-table leaves\n",
		len(table.Classes()), table.Leaves(false), table.Leaves(true))

	resetPeak()
	ix2, t, err := compile(ttl, db, nil, nil, o.left())
	if err != nil {
		return err
	}
	fmt.Printf("%-26s %s: record %s\n", "compile, a TTL changed", t, changed.GetMetadata().GetName())
	if !t.done {
		return unfinished()
	}
	fmt.Printf("  %s (the previous index still held)\n", measureMem())
	runtime.KeepAlive(ix)

	resetPeak()
	ix3, t, err := compile(flip, db, nil, nil, o.left())
	if err != nil {
		return err
	}
	fmt.Printf("%-26s %s: %s\n", "compile, an origin down", t, name)
	if !t.done {
		return unfinished()
	}
	fmt.Printf("  %s (the previous index still held)\n", measureMem())
	runtime.KeepAlive(ix2)
	runtime.KeepAlive(ix3)
	ix, ix2, ix3 = nil, nil, nil
	if o.dnssec {
		if done, err := signedCompiles(o, snap, flip, db, name); err != nil || !done {
			return err
		}
	}

	if !o.serve {
		return nil
	}
	db = nil
	return serve(o, dbPath, snap, ttl, flip, q)
}

// coldCompile compiles the snapshot for the first time, profiling it if
// asked. It returns a nil index when the compile did not finish.
func coldCompile(o options, snap *v1.GslbSnapshot, db *geo.DB) (*index.Index, error) {
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return nil, fmt.Errorf("-cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, fmt.Errorf("-cpuprofile: %w", err)
		}
	}
	resetPeak()
	ix, t, err := compile(snap, db, nil, nil, o.left())
	if o.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return nil, err
	}
	fmt.Printf("%-26s %s\n", "compile cold", t)
	if !t.done {
		fmt.Printf("  so far: %s\n", measureMem())
		return nil, unfinished()
	}
	fmt.Printf("  %s\n", measureMem())
	if o.memProfile != "" {
		f, err := os.Create(o.memProfile)
		if err != nil {
			return nil, fmt.Errorf("-memprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			return nil, fmt.Errorf("-memprofile: %w", err)
		}
	}
	return ix, nil
}

// flipped is a copy of snap with the origin most records name marked down
// and the revision bumped.
func flipped(snap *v1.GslbSnapshot) (*v1.GslbSnapshot, string) {
	uses := map[string]int{}
	for _, r := range snap.GetRecords() {
		for _, o := range r.GetSpec().GetOrigins() {
			uses[o]++
		}
	}
	out := proto.Clone(snap).(*v1.GslbSnapshot)
	out.Revision++
	var busiest *v1.SnapshotOrigin
	for _, o := range out.GetOrigins() {
		if busiest == nil || uses[o.GetName()] > uses[busiest.GetName()] {
			busiest = o
		}
	}
	busiest.Healthy = false
	busiest.HealthReason = "2 of 3 vantage points see it down"
	return out, fmt.Sprintf("%s, in %d records", busiest.GetName(), uses[busiest.GetName()])
}

// popNetworkAdded is a copy of snap with a /24 added to the first PoP's
// cache networks (as when a PoP takes on a new peer's customers), and the
// revision bumped.
func popNetworkAdded(snap *v1.GslbSnapshot) *v1.GslbSnapshot {
	out := proto.Clone(snap).(*v1.GslbSnapshot)
	out.Revision++
	p := out.GetPops()[0]
	p.CacheNetworks = append(p.CacheNetworks, "100.64.7.0/24")
	return out
}

// firstName is the name of the snapshot's first A record.
func firstName(snap *v1.GslbSnapshot) string {
	for _, r := range snap.GetRecords() {
		if r.GetSpec().GetType() == v1.RecordType_RECORD_TYPE_A {
			return recordName(snap, r)
		}
	}
	return "www." + snap.GetZones()[0].GetSpec().GetZone()
}

// recordName is a record's full name: its name if absolute (as the
// controller compiles it), else relative to its zone's apex.
func recordName(snap *v1.GslbSnapshot, r *v1.GslbRecord) string {
	if n := r.GetSpec().GetName(); strings.HasSuffix(n, ".") {
		return n
	}
	for _, z := range snap.GetZones() {
		if z.GetMetadata().GetName() == r.GetSpec().GetZone() {
			return dns.Fqdn(r.GetSpec().GetName() + "." + z.GetSpec().GetZone())
		}
	}
	return dns.Fqdn(r.GetSpec().GetName())
}

// signedCompiles times the signed compiles of snap, cold, and of flip
// with the signed index of snap given, as the server gives it. It reports
// whether they finished.
func signedCompiles(o options, snap, flip *v1.GslbSnapshot, db *geo.DB, name string) (bool, error) {
	signers, err := signersIn(o.keyDir)
	if err != nil {
		return false, err
	}
	// The unsigned counterpart of the last step.
	ix, t, err := compile(snap, db, nil, nil, o.left())
	if err != nil || !t.done {
		return false, err
	}
	resetPeak()
	ix2, t, err := compile(flip, db, nil, ix, o.left())
	if err != nil {
		return false, err
	}
	fmt.Printf("%-26s %s: %s, the index before it given\n", "compile, origin down, reusing", t, name)
	if !t.done {
		return false, unfinished()
	}
	fmt.Printf("  %s (the previous index still held)\n", measureMem())
	runtime.KeepAlive(ix)
	runtime.KeepAlive(ix2)
	ix, ix2 = nil, nil

	resetPeak()
	ix, t, err = compile(snap, db, signers, nil, o.left())
	if err != nil {
		return false, err
	}
	fmt.Printf("%-26s %s\n", "compile cold, signed", t)
	if !t.done {
		return false, unfinished()
	}
	fmt.Printf("  %s\n", measureMem())
	resetPeak()
	ix2, t, err = compile(flip, db, signers, ix, o.left())
	if err != nil {
		return false, err
	}
	fmt.Printf("%-26s %s: %s, the signed index before it given\n", "compile, origin down, reusing, signed", t, name)
	if !t.done {
		return false, unfinished()
	}
	fmt.Printf("  %s (the previous index still held)\n", measureMem())
	runtime.KeepAlive(ix)
	runtime.KeepAlive(ix2)
	return true, nil
}

// serve starts the real server and times its updates to the changed
// snapshots.
func serve(o options, dbPath string, snap, ttl, flip *v1.GslbSnapshot, q *dns.Msg) error {
	runtime.GC()
	resetPeak()
	fmt.Printf("server on loopback, query %s A with ECS %s:\n", q.Question[0].Name, o.ecs)
	stateDir, err := os.MkdirTemp("", "dnsscale-state-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stateDir)
	// The server reads the database through a link that reloadTest
	// replaces.
	live := filepath.Join(stateDir, "geoip", "city.mmdb")
	if err := os.Mkdir(filepath.Dir(live), 0o755); err != nil {
		return err
	}
	if err := os.Symlink(dbPath, live); err != nil {
		return err
	}
	srv, err := startServer(live, stateDir, o.keyDir, snap, q, o.left())
	if err != nil || srv == nil {
		if err == nil {
			return unfinished()
		}
		return err
	}
	defer srv.close()
	fmt.Printf("  %s\n", measureMem())
	// A query whose answer names the origin that goes down, to see when
	// the change reaches answers.
	pq, addrs := probe(srv, snap, downOrigin(flip), q)
	t, err := srv.update(ttl, o.left())
	if err != nil {
		return err
	}
	fmt.Printf("  %-24s %s\n", "Update, TTL changed", t)
	if !t.done {
		return unfinished()
	}
	t, reached, err := srv.updateUntil(flip, pq, addrs, o.dnssec, o.left())
	if err != nil {
		return err
	}
	fmt.Printf("  %-24s %s\n", "Update, origin down", t)
	if !t.done {
		return unfinished()
	}
	if reached != "" {
		fmt.Printf("  %-24s %s\n", "  new answer over UDP", reached)
	}
	fmt.Printf("  %s\n", measureMem())
	// A PoP's cache networks change the prefix table, not the database.
	pop := popNetworkAdded(flip)
	t, err = srv.update(pop, o.left())
	if err != nil {
		return err
	}
	fmt.Printf("  %-24s %s: PoP %s\n", "Update, PoP network added", t, pop.GetPops()[0].GetName())
	if !t.done {
		return unfinished()
	}
	fmt.Printf("  %s\n", measureMem())
	flip = pop
	if o.loadQPS > 0 {
		if err := loadTest(o, srv, flip); err != nil {
			return err
		}
	}
	if o.reload {
		if err := reloadTest(o, srv, live, flip); err != nil {
			return err
		}
	}
	srv.close()
	fmt.Printf("restart with the state persisted in %s, in a new process:\n", stateDir)
	if err := restart(o, live, stateDir); err != nil {
		return err
	}
	// The same networks in a file of another modification time are
	// another database to the server (geo.Identify), as after a
	// geoipupdate while it was down.
	next := stateDir + ".mmdb"
	if err := gslbscale.CopyFile(live, next); err != nil {
		return err
	}
	defer os.Remove(next)
	fmt.Printf("restart after the GeoIP file changed (a copy of it: another modification time), in a new process:\n")
	if err := restart(o, next, stateDir); err != nil {
		return err
	}
	if o.keepState == "" {
		return nil
	}
	if err := os.MkdirAll(o.keepState, 0o755); err != nil {
		return err
	}
	for _, f := range []string{"gslb-snapshot.pb", "gslb-table.bin"} {
		if err := gslbscale.CopyFile(filepath.Join(stateDir, f), filepath.Join(o.keepState, f)); err != nil {
			return err
		}
	}
	fmt.Printf("state kept in %s\n", o.keepState)
	return nil
}

// restart runs this program again to restart a server from stateDir, so
// that the server starts in a fresh process, as after a reboot or an
// upgrade, and its RSS is the process's.
func restart(o options, dbPath, stateDir string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "-restart-from", stateDir, "-db", dbPath, "-ecs", o.ecs,
		"-records", strconv.Itoa(o.records), "-origins", strconv.Itoa(o.origins), "-seed", strconv.FormatUint(o.seed, 10),
		"-timeout", o.left().String(), "-example="+strconv.FormatBool(o.example), "-dnssec-keys", o.keyDir)
	if o.cpuProfile != "" {
		cmd.Args = append(cmd.Args, "-cpuprofile", o.cpuProfile+".restart")
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd.Run()
}

// restartOnly is the child of restart: it starts a server from the state
// directory, times its first answer, then waits for the full index and
// the database read in the background, and reports memory.
func restartOnly(o options) error {
	ecs, err := netip.ParsePrefix(o.ecs)
	if err != nil {
		return fmt.Errorf("-ecs: %w", err)
	}
	snap, err := snapshot(o)
	if err != nil {
		return err
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
	}
	begun := time.Now()
	srv, err := startServer(o.db, o.restartFrom, o.keyDir, nil, query(firstName(snap), ecs, o.dnssec), o.timeout)
	pprof.StopCPUProfile()
	if err != nil || srv == nil {
		if err == nil {
			return unfinished()
		}
		return err
	}
	defer srv.close()
	fmt.Printf("  %s\n", measureMem())
	start := time.Now()
	for ix := srv.s.Index(); ix.Quick(); ix = srv.s.Index() {
		if time.Since(start) > o.timeout {
			return unfinished()
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("  %-24s %s later\n", "scope tables added", dur(time.Since(start)))
	// A database other than the persisted table's is read in the
	// background, and the snapshot compiled with it swapped in.
	id, err := geo.Identify(o.db)
	if err != nil {
		return err
	}
	if srv.s.Index().Table().DBID() != id {
		for srv.s.Index().Table().DBID() != id {
			if time.Since(start) > o.timeout {
				return unfinished()
			}
			time.Sleep(10 * time.Millisecond)
		}
		fmt.Printf("  %-24s %s after start\n", "the file's database served", dur(time.Since(begun)))
	}
	time.Sleep(3 * time.Second) // the GeoIP database is read meanwhile
	fmt.Printf("  %s\n", measureMem())
	return nil
}
