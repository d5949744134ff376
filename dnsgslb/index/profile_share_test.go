package index

import (
	"testing"

	"github.com/anyctl/anyctl/bench/gslbscale"
)

// TestProfilesSharedInOneBuild compiles a generated snapshot from scratch:
// records whose ranking inputs are the same (equal profile keys) share
// one profile, its mapping from class to record class and its scope
// tables, within the build as they do across builds.
func TestProfilesSharedInOneBuild(t *testing.T) {
	db := randomDB(t, 5000, 2000)
	ix, err := Compile(gslbscale.Snapshot(300, 10, 1), Options{GeoIP: db})
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]*profile{}
	shared := 0
	for _, rec := range ix.records {
		if rec.prof == nil {
			continue
		}
		p, ok := byKey[rec.profKey]
		switch {
		case !ok:
			byKey[rec.profKey] = rec.prof
		case p != rec.prof:
			t.Fatalf("record %s: a profile of its own, although record(s) before it have its key", rec.object)
		default:
			shared++
		}
	}
	if shared == 0 {
		t.Fatal("no two records have one profile key: the test shows nothing")
	}
}
