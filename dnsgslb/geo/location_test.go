package geo_test

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// TestRecordWithoutPlace: a record with neither coordinates nor a
// continent (GeoIP2 has networks known only by their registered country)
// places its clients no better than a missing record, so they are at the
// default location's coordinates, keeping the record's country; a record
// with a continent but no coordinates is at the continent's centre.
func TestRecordWithoutPlace(t *testing.T) {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-City", RecordSize: 28, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range map[string]mmdbtype.Map{
		"198.18.0.0/24": {"registered_country": mmdbtype.Map{"iso_code": mmdbtype.String("US")}},
		"198.18.1.0/24": {"continent": mmdbtype.Map{"code": mmdbtype.String("EU")}, "country": mmdbtype.Map{"iso_code": mmdbtype.String("DE")}},
		"198.18.2.0/24": {"country": mmdbtype.Map{"iso_code": mmdbtype.String("JP")},
			"location": mmdbtype.Map{"latitude": mmdbtype.Float64(35.68), "longitude": mmdbtype.Float64(139.69)}},
	} {
		_, n, _ := net.ParseCIDR(cidr)
		if err := tree.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "places.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	db, err := geo.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	def := geo.Location{Latitude: 39.04, Longitude: -77.49, Country: "ZZ"}
	tab := geo.Build(db, nil, def)
	for addr, want := range map[string]geo.Location{
		"198.18.0.1": {Latitude: 39.04, Longitude: -77.49, Country: "US"},
		"198.18.1.1": {Latitude: 50, Longitude: 10, Country: "DE", Continent: "EU"},
		"198.18.2.1": {Latitude: 35.68, Longitude: 139.69, Country: "JP"},
		"192.0.2.1":  def,
	} {
		if got := tab.Classes()[tab.Lookup(netip.MustParseAddr(addr)).Class].Location; got != want {
			t.Errorf("%s is at %+v, want %+v", addr, got, want)
		}
	}
}
