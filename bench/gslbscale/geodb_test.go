package gslbscale_test

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/anyctl/anyctl/bench/gslbscale"
	"github.com/anyctl/anyctl/dnsgslb/geo"
)

// TestGeoDB writes a small database and reads it back the way the server
// does: every network there, nearly every location distinct, every
// continent, nothing in reserved space, the same bytes for the same seed.
func TestGeoDB(t *testing.T) {
	const networks, locations = 20000, 2000
	dir := t.TempDir()
	path := filepath.Join(dir, "city.mmdb")
	if err := gslbscale.GeoDB(path, networks, locations, 1); err != nil {
		t.Fatal(err)
	}
	db, err := geo.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	v4, v6 := db.Networks()
	if v4 != networks*8/10 || v6 != networks*2/10 {
		t.Errorf("networks = %d IPv4 + %d IPv6, want %d + %d", v4, v6, networks*8/10, networks*2/10)
	}
	tab := geo.Build(db, nil, geo.Location{})
	continents := map[string]bool{}
	countries := map[string]bool{}
	geoip := 0
	for _, c := range tab.Classes() {
		if c.Source != "geoip" {
			continue
		}
		geoip++
		continents[c.Location.Continent] = true
		countries[c.Location.Country] = true
		if c.Location.Latitude < -90 || c.Location.Latitude > 90 || c.Location.Longitude < -180 || c.Location.Longitude > 180 {
			t.Errorf("location %+v: coordinates out of range", c.Location)
		}
	}
	if geoip < locations*95/100 || geoip > locations {
		t.Errorf("distinct locations = %d, want about %d", geoip, locations)
	}
	if len(continents) != 7 {
		t.Errorf("continents = %v, want all 7", continents)
	}
	if len(countries) < 200 {
		t.Errorf("countries = %d, want 200 or more", len(countries))
	}

	r, err := maxminddb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	reserved := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("198.18.0.0/15"),
		netip.MustParsePrefix("224.0.0.0/3"), netip.MustParsePrefix("2001:db8::/32"),
	}
	for res := range r.Networks() {
		p := res.Prefix()
		for _, q := range reserved {
			if p.Overlaps(q) {
				t.Errorf("network %s is in reserved %s", p, q)
			}
		}
	}

	again := filepath.Join(dir, "again.mmdb")
	if err := gslbscale.GeoDB(again, networks, locations, 1); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(path)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Error("two databases of the same seed differ")
	}
}

func TestCachedGeoDB(t *testing.T) {
	t.Setenv(gslbscale.CacheDirEnv, t.TempDir())
	path, generated, err := gslbscale.CachedGeoDB(1000, 300, 2)
	if err != nil || !generated {
		t.Fatalf("first call: %q, generated %v, %v", path, generated, err)
	}
	again, generated, err := gslbscale.CachedGeoDB(1000, 300, 2)
	if err != nil || generated || again != path {
		t.Fatalf("second call: %q, generated %v, %v; want %q from the cache", again, generated, err, path)
	}
}
