package index

import (
	"net/netip"
	"path/filepath"
	"slices"
	"testing"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestQuickThenFull compiles the test snapshot quick (no scope tables),
// then full with the quick index as Previous, and compares both with a
// full compile from scratch, for records answered per class and live: the
// quick index answers the same with its leaves' scopes, never wider than
// the full ones, and the full index built from it scopes as the one from
// scratch.
func TestQuickThenFull(t *testing.T) {
	// Two halves of a /24 in one country, a few kilometres apart: classes
	// of their own that every record ranks alike, so a full scope joins
	// them.
	nets := append(geotest.Scattered(5000, 2000),
		geotest.Network{CIDR: "198.18.200.0/25", Country: "JP", Continent: "AS", City: "Shinjuku", Latitude: 35.69, Longitude: 139.70},
		geotest.Network{CIDR: "198.18.200.128/25", Country: "JP", Continent: "AS", City: "Shibuya", Latitude: 35.66, Longitude: 139.70},
	)
	tokyo24 := netip.MustParsePrefix("198.18.200.0/24")
	path := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.Write(path, nets); err != nil {
		t.Fatal(err)
	}
	db, err := geo.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []struct {
		name string
		live int
	}{{"compiled", liveBudget}, {"live", 0}} {
		t.Run(mode.name, func(t *testing.T) {
			saved := liveBudget
			liveBudget = mode.live
			defer func() { liveBudget = saved }()
			snap := gslbtest.Snapshot()
			scratch, err := Compile(snap, Options{GeoIP: db})
			if err != nil {
				t.Fatal(err)
			}
			quick, err := Compile(snap, Options{GeoIP: db, Quick: true, Concurrent: true})
			if err != nil {
				t.Fatal(err)
			}
			full, err := Compile(snap, Options{GeoIP: db, Previous: quick})
			if err != nil {
				t.Fatal(err)
			}
			if !quick.Quick() || full.Quick() || scratch.Quick() {
				t.Fatalf("Quick() = %v, %v, %v; want true only for the quick index", quick.Quick(), full.Quick(), scratch.Quick())
			}
			narrower := 0
			for _, rec := range scratch.records {
				for _, v6 := range []bool{false, true} {
					for i := 0; i < scratch.table.Leaves(v6); i++ {
						pfx := scratch.table.Prefix(geo.Leaf{V6: v6, Index: i})
						if i%7 != 0 && !tokyo24.Overlaps(pfx) {
							continue
						}
						client := clientIn(pfx, 0)
						want := scratch.Explain(rec.node.name, rec.qtype, client)
						q := quick.Explain(rec.node.name, rec.qtype, client)
						f := full.Explain(rec.node.name, rec.qtype, client)
						if q.Rcode != want.Rcode || !slices.Equal(q.Answer, want.Answer) || !slices.Equal(f.Answer, want.Answer) {
							t.Fatalf("%s from %s: quick %q, full %q, want %q", rec.node.name, client, q.Answer, f.Answer, want.Answer)
						}
						if f.Scope != want.Scope {
							t.Fatalf("%s from %s: full index after the quick one scopes /%d, from scratch /%d", rec.node.name, client, f.Scope, want.Scope)
						}
						if q.Scope < want.Scope {
							t.Fatalf("%s from %s: quick scope /%d is wider than the full /%d", rec.node.name, client, q.Scope, want.Scope)
						}
						if q.Scope > want.Scope && (mode.live != 0 || rec.live != nil) {
							narrower++
						}
					}
				}
			}
			if narrower == 0 {
				t.Errorf("no quick answer of a %s record had a narrower scope: the test does not tell quick from full", mode.name)
			}
		})
	}
}
