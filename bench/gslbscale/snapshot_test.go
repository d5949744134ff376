package gslbscale_test

import (
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/bench/gslbscale"
	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/index"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestSnapshot checks the generated snapshot's shape and that the server's
// compiler accepts it with a generated database.
func TestSnapshot(t *testing.T) {
	snap := gslbscale.Snapshot(1000, 30, 1)
	if !proto.Equal(snap, gslbscale.Snapshot(1000, 30, 1)) {
		t.Error("two snapshots of the same seed differ")
	}
	if proto.Equal(snap, gslbscale.Snapshot(1000, 30, 2)) {
		t.Error("snapshots of different seeds are equal")
	}
	if len(snap.GetRecords()) != 1000 || len(snap.GetOrigins()) != 30 {
		t.Fatalf("%d records over %d origins, want 1000 over 30", len(snap.GetRecords()), len(snap.GetOrigins()))
	}
	policies := map[v1.Policy]int{}
	types := map[v1.RecordType]int{}
	residency, hybrid := 0, 0
	for _, r := range snap.GetRecords() {
		s := r.GetSpec()
		policies[s.GetPolicy()]++
		types[s.GetType()]++
		if len(s.GetResidency()) > 0 {
			residency++
		}
		if s.GetPops() != nil {
			hybrid++
		} else if n := len(s.GetOrigins()); n < 2 || n > 5 {
			t.Errorf("record %s has %d origins, want 2 to 5", r.GetMetadata().GetName(), n)
		}
	}
	if policies[v1.Policy_POLICY_NEAREST] < 600 || policies[v1.Policy_POLICY_WEIGHTED] < 50 ||
		policies[v1.Policy_POLICY_FAILOVER] < 50 || policies[v1.Policy_POLICY_LATENCY] < 50 {
		t.Errorf("policies = %v, want mostly nearest and some of each other", policies)
	}
	if types[v1.RecordType_RECORD_TYPE_AAAA] < 200 || residency < 20 || hybrid < 2 {
		t.Errorf("types %v, %d with residency, %d hybrid: want some of each", types, residency, hybrid)
	}
	continents := map[string]bool{}
	for _, o := range snap.GetOrigins() {
		continents[o.GetSpec().GetLocation().GetContinent()] = true
	}
	if len(continents) != 6 {
		t.Errorf("origins on continents %v, want 6", continents)
	}

	path := filepath.Join(t.TempDir(), "city.mmdb")
	if err := gslbscale.GeoDB(path, 5000, 500, 1); err != nil {
		t.Fatal(err)
	}
	db, err := geo.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	small := gslbscale.Snapshot(100, 12, 1)
	if _, err := index.Compile(small, index.Options{GeoIP: db}); err != nil {
		t.Fatalf("compile: %v", err)
	}
}
