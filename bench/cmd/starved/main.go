//go:build linux

// Command starved measures how long the background build of a first
// snapshot's ECS scope tables takes when the machine fills up just after
// it began: the case the DNS server's starvation watchdog is for
// (docs/architecture.md, "starved"). It serves a bench/gslbscale snapshot
// from a GeoIP2-City-shaped database with the dnsgslb library, as the
// server does, and once the quick index answers and the refine has begun
// (with CPU to spare, in SCHED_IDLE where the process may leave it), it
// starts -busy shell loops at niceness 0 and times the full index. It
// prints the background runs, how many began in SCHED_IDLE and how many
// the watchdog moved out.
//
//	go run ./bench/cmd/starved                 # 3M networks, 100k locations, 5,000 records
//	go run ./bench/cmd/starved -busy 0         # the same without the loops
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"time"

	"github.com/anyctl/anyctl/bench/gslbscale"
	"github.com/anyctl/anyctl/dnsgslb"
)

func main() {
	networks := flag.Int("networks", 3_000_000, "networks in the generated GeoIP database")
	locations := flag.Int("locations", 100_000, "distinct locations in the generated GeoIP database")
	records := flag.Int("records", 5000, "GslbRecords in the snapshot")
	origins := flag.Int("origins", 50, "origins in the snapshot")
	busy := flag.Int("busy", runtime.NumCPU()+1, "busy loops started once the refine has begun")
	wait := flag.Duration("after", 200*time.Millisecond, "how long after the quick index answers the loops start (the refine's class is chosen over its first 50 ms)")
	limit := flag.Duration("timeout", 10*time.Minute, "give up waiting for the full index after this long")
	verbose := flag.Bool("v", false, "show the server's log")
	flag.Parse()
	log.SetFlags(0)

	db, _, err := gslbscale.CachedGeoDB(*networks, *locations, 1)
	if err != nil {
		log.Fatal(err)
	}
	out := io.Discard
	if *verbose {
		out = os.Stderr
	}
	s, err := dnsgslb.New(dnsgslb.Config{
		Listen: "127.0.0.1:0", GeoIPPath: db,
		DefaultLocation: dnsgslb.Location{Latitude: 39, Longitude: -77, Country: "US", Continent: "NA"},
		Logger:          slog.New(slog.NewTextHandler(out, nil)),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("starved: %d networks, %d locations, %d records, %d origins; %d busy loops; SCHED_IDLE allowed: %v\n",
		*networks, *locations, *records, *origins, *busy, dnsgslb.CanRescueIdle())
	start := time.Now()
	if err := s.Update(gslbscale.Snapshot(*records, *origins, 1)); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("quick index answers %v after the Update\n", time.Since(start).Round(time.Millisecond))
	time.Sleep(*wait)
	for range *busy {
		c := exec.Command("sh", "-c", "while kill -0 $PPID 2>/dev/null; do :; done")
		if err := c.Start(); err != nil {
			log.Fatal(err)
		}
		defer func() {
			c.Process.Kill()
			c.Wait()
		}()
	}
	loops := time.Now()
	for ix := s.Index(); ix.Quick() || ix.Unfinished(); ix = s.Index() {
		if time.Since(loops) > *limit {
			fmt.Printf("no full index %v after the loops started\n", *limit)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	all, idle := dnsgslb.BackgroundRuns()
	fmt.Printf("full index %v after the loops started; %d background runs, %d begun in SCHED_IDLE, %d moved out starved; background CPU %v\n",
		time.Since(loops).Round(time.Millisecond), all, idle, dnsgslb.BackgroundStarved(), dnsgslb.BackgroundCPU().Round(time.Millisecond))
}
