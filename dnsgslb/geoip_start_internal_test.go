package dnsgslb

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
)

// TestGeoIPReplacedAtStart: a database renamed over the GeoIP path (as
// geoipupdate does) just after the start named the file is read by the
// watcher. The start must not take the new file's size and time for
// those of the file it named: the watcher would then find nothing to
// read, and the server would stay without a database, the first read
// having refused the new file as not the one named.
func TestGeoIPReplacedAtStart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "city.mmdb")
	if err := geotest.Write(path, geotest.Networks); err != nil {
		t.Fatal(err)
	}
	next := filepath.Join(dir, "city.mmdb.new")
	nets := append([]geotest.Network(nil), geotest.Networks...)
	nets[0].City = "Somewhere else"
	if err := geotest.Write(next, nets); err != nil {
		t.Fatal(err)
	}
	geoIPNamed = func() {
		if err := os.Rename(next, path); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { geoIPNamed = func() {} })
	s, err := New(Config{Listen: "127.0.0.1:0", GeoIPPath: path, GeoIPReloadInterval: 20 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	geoIPNamed = func() {}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	want, err := geo.Identify(path)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		db, _ := s.geoip.current()
		if db != nil && db.ID() == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database renamed over the path at start is not read 5 s later (reload interval 20ms): serving %s, the file is %s (failures %d)",
				db.ID(), want, s.geoip.failures.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
