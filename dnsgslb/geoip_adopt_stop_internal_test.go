//go:build linux

package dnsgslb

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestStopWhileAdoptionWaitsBuildsNothing: a server stopped (SIGTERM)
// while the adoption of the GeoIP database read at start waits for the
// build before it (a refine, a reload, an update) returns without
// building a prefix table from it: Run waits for the adoption, and the
// table alone takes seconds at City size, at the builds' low priority.
func TestStopWhileAdoptionWaitsBuildsNothing(t *testing.T) {
	path, dir := filepath.Join(t.TempDir(), "city.mmdb"), t.TempDir()
	write := func(nets []geotest.Network) {
		if err := geotest.Write(path+".new", nets); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".new", path); err != nil {
			t.Fatal(err)
		}
	}
	write(geotest.Networks)
	cfg := Config{Listen: "127.0.0.1:0", GeoIPPath: path, StateDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(gslbtest.Snapshot()); err != nil {
		t.Fatal(err)
	}
	s.refining.Wait()
	write(geotest.Networks[1:])
	if s, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	<-s.geoip.done
	s.refining.Wait()
	if _, id := s.geoip.current(); s.Index().Table().DBID() == id {
		t.Fatal("the restart did not answer from the persisted table of the database before")
	}

	// The adoption waits for updateMu, held here as a long build holds it.
	s.updateMu.Lock()
	locked := true
	defer func() {
		if locked {
			s.updateMu.Unlock()
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	<-s.Ready()
	deadline := time.Now().Add(10 * time.Second)
	for s.reloadMu.TryLock() { // held by the adoption once it waits for updateMu
		s.reloadMu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal("the adoption of the database read does not start")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	before, _ := BackgroundRuns()
	s.updateMu.Unlock()
	locked = false
	select {
	case err := <-ran:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return 10 s after its context ended")
	}
	if after, _ := BackgroundRuns(); after != before {
		t.Errorf("%d builds ran after the server stopped", after-before)
	}
}
