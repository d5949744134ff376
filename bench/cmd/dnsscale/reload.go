//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// reloadTest replaces the server's GeoIP database by another of the same
// size (generated with the next seed: every network placed anew, more
// change than a weekly update makes), as an update tool does it (a new
// file renamed over the path), and times ReloadGeoIP, which returns once
// the new database is served, then the background builds of its scope
// tables, with the peak RSS over both. With -load-qps, dnsperf runs
// meanwhile at that rate, from a second before the rename until -load-for
// has passed.
func reloadTest(o options, srv *server, live string, snap *v1.GslbSnapshot) error {
	next := o
	next.seed++
	path, err := database(next)
	if err != nil {
		return err
	}
	fmt.Printf("GeoIP database replaced by another of %d networks in %d locations (seed %d), renamed over the path:\n", o.networks, o.locations, next.seed)
	if !settled(o, srv) {
		return unfinished()
	}
	var load chan perfRun
	var loadErr error
	if o.loadQPS > 0 {
		g, err := newLoadGen(o, srv, snap)
		if err != nil {
			return err
		}
		defer g.close()
		load = make(chan perfRun, 1)
		go func() {
			out, err := g.run(o.loadFor)
			loadErr = err
			load <- parsePerf(out)
		}()
		time.Sleep(time.Second)
	}
	resetPeak()
	tmp := filepath.Join(filepath.Dir(live), ".next.mmdb")
	if err := os.Symlink(path, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, live); err != nil {
		return err
	}
	t, err := timed(o.left(), func() error { return srv.s.ReloadGeoIP(context.Background()) })
	fmt.Printf("  %-24s %s\n", "ReloadGeoIP (serves it)", t)
	if err != nil || !t.done {
		return err
	}
	if !settled(o, srv) {
		return unfinished()
	}
	fmt.Printf("  %s\n", measureMem())
	if load != nil {
		r := <-load
		if loadErr != nil {
			return loadErr
		}
		fmt.Printf("  %-24s %s\n", fmt.Sprintf("dnsperf at %d QPS", o.loadQPS), pooled([]perfRun{r}))
	}
	return nil
}
