package geo

import "math"

// Location is where a client, PoP or origin is, as far as steering cares.
type Location struct {
	Latitude  float64
	Longitude float64
	// Country is an ISO 3166-1 alpha-2 code in upper case ("JP"); empty when
	// unknown.
	Country string
	// Continent is a two-letter code (AF AN AS EU NA OC SA); empty when
	// unknown.
	Continent string
	City      string
}

// Class is one location class: every address in the leaves that name it is
// steered the same way. Pop is the PoP whose cache networks the leaves are,
// or empty for locations from the GeoIP database or the default.
type Class struct {
	Location Location
	Pop      string
	// Source says where the location came from: "pop", "geoip" or "default".
	Source string
}

const earthRadiusKm = 6371.0

// DistanceKm is the great-circle distance between two locations (haversine).
func DistanceKm(a, b Location) float64 {
	la1, la2 := a.Latitude*math.Pi/180, b.Latitude*math.Pi/180
	dla := la2 - la1
	dlo := (b.Longitude - a.Longitude) * math.Pi / 180
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dlo/2)*math.Sin(dlo/2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(h)))
}
