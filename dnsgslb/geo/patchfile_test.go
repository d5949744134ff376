package geo_test

import (
	"net/netip"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
)

// TestPatchOutlivesTheTableRead: a table patched from one read from a
// file (a PoP's IPv4 network changed after a restart) keeps the family
// it did not patch (IPv6) as it was in the table read, whose leaves are
// held in memory that goes with it. Once the table read is dropped (the
// index that served it replaced), the patched table must still have
// them: a lookup must not fault on memory given back.
func TestPatchOutlivesTheTableRead(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.Write(dbPath, geotest.Networks); err != nil {
		t.Fatal(err)
	}
	db, err := geo.OpenDB(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	def := geo.Location{City: "default"}
	pops := []geo.PopNetwork{{Prefix: netip.MustParsePrefix("198.18.100.0/24"), Pop: "tyo", Location: geo.Location{City: "Tokyo"}}}
	path := filepath.Join(t.TempDir(), "table")
	if err := geo.Build(db, pops, def).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	more := append(slices.Clone(pops), geo.PopNetwork{Prefix: netip.MustParsePrefix("198.19.0.0/24"), Pop: "tyo", Location: geo.Location{City: "Tokyo"}})
	patched := func() *geo.Table {
		read, err := geo.ReadTableFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !read.Adopt(db.ID(), pops, def) {
			t.Fatal("Adopt refused what the table was built from")
		}
		p, ok := geo.Patch(read, db, more, def)
		if !ok {
			t.Fatal("a table read from a file and adopted: not patched")
		}
		return p
	}()
	// The table read is garbage now: let its cleanup run.
	for range 20 {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
	if err := sameTable(patched, geo.Build(db, more, def)); err != nil {
		t.Errorf("patched table, the table read dropped: %v", err)
	}
}
