package dnsgslb

import (
	"context"
	"testing"

	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestCancelledGeoIPReloadIsNotRefused: a reload stopped by its context
// (the server stopping) does not count the file as refused, keeps the
// database served, and leaves the file to be tried again.
func TestCancelledGeoIPReloadIsNotRefused(t *testing.T) {
	s := testServerWith(t, Config{})
	if err := s.Update(gslbtest.Snapshot()); err != nil {
		t.Fatal(err)
	}
	s.refining.Wait()
	served, _ := s.geoip.current()
	nets := append([]geotest.Network(nil), geotest.Networks...)
	nets[0].City = "Elsewhere"
	if err := geotest.Write(s.geoip.path, nets); err != nil {
		t.Fatal(err)
	}
	s.reloadMu.Lock()
	tried := s.geoIPFile
	s.reloadMu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.ReloadGeoIP(ctx); err == nil {
		t.Fatal("a reload with its context ended took effect")
	}
	if n, failing := s.geoip.failures.Load(), s.geoip.failing.Load(); n != 0 || failing {
		t.Errorf("a stopped reload counted as refused: failures %d, failing %v", n, failing)
	}
	if db, _ := s.geoip.current(); db != served {
		t.Error("a stopped reload replaced the database served")
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if s.geoIPFile != tried {
		t.Errorf("a stopped reload marked the file as tried (%+v, was %+v): the watcher would not read it again", s.geoIPFile, tried)
	}
}
