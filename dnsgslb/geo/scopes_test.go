package geo_test

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
)

// TestScopesByClassAsScopes checks that ScopesByClass gives the scope
// tables Scopes gives, for keys that are constant, one per class, and
// random over a few values, on a database of 20,000 networks.
func TestScopesByClassAsScopes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scattered.mmdb")
	if err := geotest.Write(path, geotest.Scattered(20000, 500)); err != nil {
		t.Fatal(err)
	}
	db, err := geo.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	tab := geo.Build(db, nil, geo.Location{Country: "ZZ"})
	n := len(tab.Classes())
	r := rand.New(rand.NewPCG(1, 2))
	keys := map[string][]int32{"constant": make([]int32, n), "per class": make([]int32, n), "random of 2": make([]int32, n), "random of 5": make([]int32, n)}
	for c := range n {
		keys["per class"][c] = int32(c)
		keys["random of 2"][c] = int32(r.IntN(2))
		keys["random of 5"][c] = int32(r.IntN(5))
	}
	for name, key := range keys {
		for _, v6 := range []bool{false, true} {
			want := tab.Scopes(v6, func(c int32) int32 { return key[c] })
			got := tab.ScopesByClass(v6, key)
			if !slices.Equal(got, want) {
				t.Errorf("%s, v6 %v: ScopesByClass differs from Scopes", name, v6)
			}
			if !v6 && name == "random of 2" && !slices.ContainsFunc(want, func(s uint8) bool { return s < 24 }) {
				t.Errorf("%s: no leaf merged with a neighbour; the comparison shows little", name)
			}
		}
	}
}

// BenchmarkScopes times the scope table of a key over two values on a
// database of 200,000 networks, with the key a function (Scopes) and a
// slice (ScopesByClass).
func BenchmarkScopes(b *testing.B) {
	path := filepath.Join(b.TempDir(), "scattered.mmdb")
	if err := geotest.Write(path, geotest.Scattered(200000, 5000)); err != nil {
		b.Fatal(err)
	}
	db, err := geo.OpenDB(path)
	if err != nil {
		b.Fatal(err)
	}
	tab := geo.Build(db, nil, geo.Location{Country: "ZZ"})
	key := make([]int32, len(tab.Classes()))
	for c := range key {
		key[c] = int32(c % 2)
	}
	b.Run("func", func(b *testing.B) {
		for b.Loop() {
			tab.Scopes(false, func(c int32) int32 { return key[c] })
		}
	})
	b.Run("slice", func(b *testing.B) {
		for b.Loop() {
			tab.ScopesByClass(false, key)
		}
	})
}
