package dnsgslb

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestGeoIPReloadStopsReading: a reload whose context ends (the server
// stopping on SIGTERM, which waits for it) stops reading the database
// rather than reading it whole: a City-sized one takes seconds to read,
// tens of seconds on a busy machine at the reload's low priority.
func TestGeoIPReloadStopsReading(t *testing.T) {
	s := testServerWith(t, Config{})
	if err := s.Update(gslbtest.Snapshot()); err != nil {
		t.Fatal(err)
	}
	s.refining.Wait()
	next := s.geoip.path + ".new"
	if err := geotest.Write(next, append(geotest.Scattered(100_000, 2_000), geotest.Networks...)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, s.geoip.path); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := geo.OpenDB(s.geoip.path); err != nil {
		t.Fatal(err)
	}
	read := time.Since(start)

	ctx, cancel := context.WithCancel(context.Background())
	geoIPReading = cancel
	t.Cleanup(func() { geoIPReading = func() {} })
	start = time.Now()
	err := s.ReloadGeoIP(ctx)
	took := time.Since(start)
	if err == nil {
		t.Fatal("a reload whose context ended took effect")
	}
	if took > read/4 {
		t.Errorf("a reload whose context ended before it read the database took %s; reading it takes %s", took.Round(time.Millisecond), read.Round(time.Millisecond))
	}
}
