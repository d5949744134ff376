// Package geotest writes small MaxMind City-format databases for tests and
// benchmarks, so that nothing is downloaded.
package geotest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Network is one network of the database and where it is.
type Network struct {
	CIDR      string
	Country   string
	Continent string
	City      string
	Latitude  float64
	Longitude float64
}

// Networks is the set the project's tests use: documentation and
// benchmarking ranges spread over three continents, both families.
var Networks = []Network{
	{CIDR: "198.18.0.0/24", Country: "JP", Continent: "AS", City: "Tokyo", Latitude: 35.68, Longitude: 139.69},
	{CIDR: "198.18.1.0/24", Country: "GB", Continent: "EU", City: "London", Latitude: 51.51, Longitude: -0.13},
	{CIDR: "198.18.2.0/24", Country: "US", Continent: "NA", City: "New York", Latitude: 40.71, Longitude: -74.01},
	{CIDR: "198.18.3.0/24", Country: "DE", Continent: "EU", City: "Frankfurt", Latitude: 50.11, Longitude: 8.68},
	{CIDR: "198.18.4.0/24", Country: "SG", Continent: "AS", City: "Singapore", Latitude: 1.35, Longitude: 103.82},
	{CIDR: "198.18.5.0/24", Country: "US", Continent: "NA", City: "San Francisco", Latitude: 37.77, Longitude: -122.42},
	{CIDR: "198.18.16.0/20", Country: "US", Continent: "NA", City: "Palo Alto", Latitude: 37.44, Longitude: -122.14},
	{CIDR: "2001:db8:1::/48", Country: "JP", Continent: "AS", City: "Tokyo", Latitude: 35.68, Longitude: 139.69},
	{CIDR: "2001:db8:2::/48", Country: "GB", Continent: "EU", City: "London", Latitude: 51.51, Longitude: -0.13},
	{CIDR: "2001:db8:3::/48", Country: "US", Continent: "NA", City: "New York", Latitude: 40.71, Longitude: -74.01},
	{CIDR: "2001:db8:4::/48", Country: "DE", Continent: "EU", City: "Frankfurt", Latitude: 50.11, Longitude: 8.68},
}

// Write writes a City-format database holding the networks to path.
func Write(path string, nets []Network) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            "GeoIP2-City",
		RecordSize:              28,
		IncludeReservedNetworks: true,
	})
	if err != nil {
		return fmt.Errorf("new mmdb tree: %w", err)
	}
	for _, n := range nets {
		_, ipnet, err := net.ParseCIDR(n.CIDR)
		if err != nil {
			return fmt.Errorf("network %q: %w", n.CIDR, err)
		}
		rec := mmdbtype.Map{
			"city":      mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(n.City)}},
			"continent": mmdbtype.Map{"code": mmdbtype.String(n.Continent)},
			"country":   mmdbtype.Map{"iso_code": mmdbtype.String(n.Country)},
			"location": mmdbtype.Map{
				"latitude":  mmdbtype.Float64(n.Latitude),
				"longitude": mmdbtype.Float64(n.Longitude),
			},
		}
		if err := tree.Insert(ipnet, rec); err != nil {
			return fmt.Errorf("insert network %q: %w", n.CIDR, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write mmdb %q: %w", path, err)
	}
	return f.Close()
}

// Scattered is n IPv4 /24 networks in places places spread over six
// continents and 200 countries, the same for the same arguments: a
// database bigger than Networks for tests and benchmarks of scale.
func Scattered(n, places int) []Network {
	r := rand.New(rand.NewPCG(3, 4))
	continents := []string{"AS", "EU", "NA", "SA", "OC", "AF"}
	nets := make([]Network, 0, n)
	for i := range n {
		place := r.IntN(places)
		pr := rand.New(rand.NewPCG(uint64(place), 9))
		nets = append(nets, Network{
			CIDR:      fmt.Sprintf("%d.%d.%d.0/24", 1+i/65536, (i/256)%256, i%256),
			Country:   fmt.Sprintf("C%d", place%200),
			Continent: continents[place%len(continents)],
			City:      fmt.Sprintf("city%d", place),
			Latitude:  pr.Float64()*140 - 70,
			Longitude: pr.Float64()*360 - 180,
		})
	}
	return nets
}
