package geo_test

import (
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
)

func testDB(t *testing.T) *geo.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.Write(path, geotest.Networks); err != nil {
		t.Fatal(err)
	}
	db, err := geo.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestLookup(t *testing.T) {
	def := geo.Location{Country: "ZZ", City: "default"}
	pops := []geo.PopNetwork{
		{Prefix: netip.MustParsePrefix("198.18.0.128/25"), Pop: "tyo1", Location: geo.Location{City: "tyo1"}},
		{Prefix: netip.MustParsePrefix("198.18.0.192/26"), Pop: "tyo2", Location: geo.Location{City: "tyo2"}},
		{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Pop: "lab", Location: geo.Location{City: "lab"}},
		{Prefix: netip.MustParsePrefix("2001:db8:ffff::/48"), Pop: "lab", Location: geo.Location{City: "lab"}},
	}
	tab := geo.Build(testDB(t), pops, def)
	tests := []struct {
		addr   string
		city   string
		pop    string
		prefix string
	}{
		{"198.18.0.1", "Tokyo", "", "198.18.0.0/25"},
		{"198.18.0.130", "tyo1", "tyo1", "198.18.0.128/26"},
		{"198.18.0.200", "tyo2", "tyo2", "198.18.0.192/26"},
		{"198.18.1.9", "London", "", "198.18.1.0/24"},
		{"198.18.2.255", "New York", "", "198.18.2.0/24"},
		{"10.20.30.40", "lab", "lab", "10.0.0.0/8"},
		{"192.0.2.1", "default", "", "192.0.0.0/6"},
		{"0.0.0.0", "default", "", "0.0.0.0/5"},
		{"255.255.255.255", "default", "", "224.0.0.0/3"},
		{"2001:db8:1::1", "Tokyo", "", "2001:db8:1::/48"},
		{"2001:db8:4:ffff::1", "Frankfurt", "", "2001:db8:4::/48"},
		{"2001:db8:ffff:1::", "lab", "lab", "2001:db8:ffff::/48"},
		{"::ffff:198.18.1.1", "London", "", "198.18.1.0/24"},
		{"2001:db8::1", "default", "", "2001:db8::/48"},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			l := tab.Lookup(netip.MustParseAddr(tc.addr))
			c := tab.Classes()[l.Class]
			if c.Location.City != tc.city || c.Pop != tc.pop {
				t.Errorf("class = %+v, want city %q pop %q", c, tc.city, tc.pop)
			}
			if got := tab.Prefix(l).String(); got != tc.prefix {
				t.Errorf("leaf prefix = %s, want %s", got, tc.prefix)
			}
		})
	}
}

func TestScopesMergeByKey(t *testing.T) {
	tab := geo.Build(testDB(t), nil, geo.Location{})
	classes := tab.Classes()
	byContinent := func(c int32) int32 {
		switch classes[c].Location.Continent {
		case "EU":
			return 1
		case "NA":
			return 2
		case "AS":
			return 3
		}
		return 0
	}
	tests := []struct {
		name  string
		key   func(int32) int32
		addr  string
		scope uint8
	}{
		{"constant key", func(int32) int32 { return 7 }, "198.18.1.1", 0},
		{"constant key v6", func(int32) int32 { return 7 }, "2001:db8:2::1", 0},
		{"by continent, London", byContinent, "198.18.1.1", 24},
		{"by continent, Frankfurt", byContinent, "198.18.3.1", 24},
		{"by class", func(c int32) int32 { return c }, "198.18.0.1", 24},
		{"default only differs", func(c int32) int32 {
			if classes[c].Source == "default" {
				return 1
			}
			return 0
		}, "198.18.2.1", 22},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := netip.MustParseAddr(tc.addr)
			l := tab.Lookup(a)
			if got := tab.Scopes(l.V6, tc.key)[l.Index]; got != tc.scope {
				t.Errorf("scope of %s = %d, want %d", a, got, tc.scope)
			}
		})
	}
}

func TestDistance(t *testing.T) {
	tokyo := geo.Location{Latitude: 35.68, Longitude: 139.69}
	london := geo.Location{Latitude: 51.51, Longitude: -0.13}
	d := geo.DistanceKm(tokyo, london)
	if d < 9500 || d > 9650 {
		t.Errorf("Tokyo-London = %.0f km, want about 9560", d)
	}
	if d := geo.DistanceKm(tokyo, tokyo); d != 0 {
		t.Errorf("distance to itself = %v", d)
	}
}

// TestPopNetworkIPv4Mapped checks that a PoP network written IPv4-mapped
// is as specific as the IPv4 network it maps: a /112 mapped is a /16, and
// an IPv4 /25 inside it still wins.
func TestPopNetworkIPv4Mapped(t *testing.T) {
	pops := []geo.PopNetwork{
		{Prefix: netip.MustParsePrefix("::ffff:198.18.0.0/112"), Pop: "wide", Location: geo.Location{City: "wide"}},
		{Prefix: netip.MustParsePrefix("198.18.0.128/25"), Pop: "narrow", Location: geo.Location{City: "narrow"}},
		{Prefix: netip.MustParsePrefix("::ffff:198.18.1.0/120"), Pop: "mapped24", Location: geo.Location{City: "mapped24"}},
		{Prefix: netip.MustParsePrefix("198.18.0.0/15"), Pop: "wider", Location: geo.Location{City: "wider"}},
	}
	tab := geo.Build(testDB(t), pops, geo.Location{})
	for addr, pop := range map[string]string{
		"198.18.0.130":        "narrow",
		"::ffff:198.18.0.130": "narrow",
		"198.18.0.1":          "wide",
		"198.18.1.1":          "mapped24",
		"198.19.0.1":          "wider",
	} {
		l := tab.Lookup(netip.MustParseAddr(addr))
		if got := tab.Classes()[l.Class].Pop; got != pop {
			t.Errorf("%s is steered as PoP %q (leaf %s), want %q", addr, got, tab.Prefix(l), pop)
		}
	}
}
