package index

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// randomDB writes and opens a GeoIP database of n networks in places
// places on six continents.
func randomDB(t testing.TB, n, places int) *geo.DB {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	continents := []string{"AS", "EU", "NA", "SA", "OC", "AF"}
	var nets []geotest.Network
	for i := range n {
		place := r.IntN(places)
		pr := rand.New(rand.NewPCG(uint64(place), 9))
		nets = append(nets, geotest.Network{
			CIDR:      fmt.Sprintf("%d.%d.%d.0/24", 1+i/65536, (i/256)%256, i%256),
			Country:   fmt.Sprintf("C%d", place%200),
			Continent: continents[place%len(continents)],
			City:      fmt.Sprintf("city%d", place),
			Latitude:  pr.Float64()*140 - 70,
			Longitude: pr.Float64()*360 - 180,
		})
	}
	path := filepath.Join(t.TempDir(), "random.mmdb")
	if err := geotest.Write(path, nets); err != nil {
		t.Fatal(err)
	}
	db, err := geo.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestProfilesAgreeWithPrepare checks, for every record of the test
// snapshot (with one origin down, so health and fail-open are exercised)
// and every location class of a database of 2,000 places, that the shared
// profile ranks the record's candidates exactly as prepare (what explain
// runs) does.
func TestProfilesAgreeWithPrepare(t *testing.T) {
	snap := gslbtest.Snapshot()
	snap.GetOrigins()[0].Healthy = false
	ix, err := Compile(snap, Options{GeoIP: randomDB(t, 5000, 2000)})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range ix.records {
		for ci := range ix.clients {
			want := rec.prepare(&ix.clients[ci], nil)
			got := rec.prof.preps[rec.prof.rc(int32(ci))]
			if want.rcode != got.rcode || want.nodata != got.nodata || want.allDown != got.allDown || !slices.Equal(want.base, got.base) {
				t.Fatalf("record %s, class %d (%+v): profile has %+v, prepare says %+v", rec.object, ci, ix.clients[ci].class, got, want)
			}
		}
	}
}

// TestRecompileReusesWhatDidNotChange compiles a snapshot, then the same
// with one origin's health flipped, with the first as Previous: the table
// and the profiles of records without that origin are shared, and the
// answers are those of a compile from scratch.
func TestRecompileReusesWhatDidNotChange(t *testing.T) {
	db := randomDB(t, 5000, 2000)
	snap := gslbtest.Snapshot()
	first, err := Compile(snap, Options{GeoIP: db})
	if err != nil {
		t.Fatal(err)
	}
	snap.GetOrigins()[1].Healthy = false
	flipped := snap.GetOrigins()[1].GetName()
	second, err := Compile(snap, Options{GeoIP: db, Previous: first})
	if err != nil {
		t.Fatal(err)
	}
	scratch, err := Compile(snap, Options{GeoIP: db})
	if err != nil {
		t.Fatal(err)
	}
	if second.table != first.table {
		t.Error("the prefix table was built again although the database and PoP networks did not change")
	}
	for i, rec := range second.records {
		uses := slices.ContainsFunc(rec.cands, func(c candidate) bool { return c.name == flipped })
		if shared := rec.prof == first.records[i].prof; shared == uses && rec.prof.classRC != nil {
			t.Errorf("record %s (uses %s: %v): profile shared with the previous index: %v", rec.object, flipped, uses, shared)
		}
		for ci := range second.clients {
			got := rec.rcs[rec.prof.rc(int32(ci))].answers
			want := scratch.records[i].rcs[scratch.records[i].prof.rc(int32(ci))].answers
			if len(got) != len(want) {
				t.Fatalf("record %s class %d: %d answers, from scratch %d", rec.object, ci, len(got), len(want))
			}
			for k := range got {
				if string(got[k].msg) != string(want[k].msg) {
					t.Fatalf("record %s class %d bucket %d: answer differs from a compile from scratch", rec.object, ci, k)
				}
			}
		}
	}
}
