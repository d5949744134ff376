package index_test

import (
	"path/filepath"
	"testing"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	"github.com/anyctl/anyctl/dnsgslb/index"
)

// benchDB is a GeoIP database of 20,000 networks in 2,000 places.
func benchDB(b *testing.B) *geo.DB {
	nets := geotest.Scattered(20000, 2000)
	path := filepath.Join(b.TempDir(), "big.mmdb")
	if err := geotest.Write(path, nets); err != nil {
		b.Fatal(err)
	}
	db, err := geo.OpenDB(path)
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkCompile compiles the test snapshot from scratch against a GeoIP
// database of 20,000 networks in 2,000 places: the cost of a first start.
func BenchmarkCompile(b *testing.B) {
	db := benchDB(b)
	snap := gslbtest.Snapshot()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := index.Compile(snap, index.Options{GeoIP: db}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecompileHealthChange compiles the test snapshot with one
// origin's health flipped, the previous index given: the cost of a health
// change or an apply.
func BenchmarkRecompileHealthChange(b *testing.B) {
	db := benchDB(b)
	snap := gslbtest.Snapshot()
	prev, err := index.Compile(snap, index.Options{GeoIP: db})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		snap.GetOrigins()[1].Healthy = !snap.GetOrigins()[1].GetHealthy()
		ix, err := index.Compile(snap, index.Options{GeoIP: db, Previous: prev})
		if err != nil {
			b.Fatal(err)
		}
		prev = ix
	}
}
