package index_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	"github.com/anyctl/anyctl/dnsgslb/index"
)

// benchDB is a GeoIP database of 20,000 networks in 2,000 places.
func benchDB(b *testing.B) *geo.DB {
	r := rand.New(rand.NewPCG(3, 4))
	continents := []string{"AS", "EU", "NA", "SA", "OC", "AF"}
	var nets []geotest.Network
	for i := range 20000 {
		place := r.IntN(2000)
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
