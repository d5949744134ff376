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

// DistanceKm is the great-circle distance between two locations.
func DistanceKm(a, b Location) float64 {
	chord := math.Sqrt(a.Point().Farness(b.Point()))
	return 2 * earthRadiusKm * math.Asin(math.Min(1, chord/2))
}

// Point is a location on the unit sphere. Ranking places by distance
// compares Farness, which needs no trigonometry once the points are
// known: steering ranks every location class against every candidate.
type Point struct{ X, Y, Z float64 }

// Point places l on the unit sphere.
func (l Location) Point() Point {
	la, lo := l.Latitude*math.Pi/180, l.Longitude*math.Pi/180
	return Point{X: math.Cos(la) * math.Cos(lo), Y: math.Cos(la) * math.Sin(lo), Z: math.Sin(la)}
}

// Farness is the squared chord between two points: it grows with their
// great-circle distance, so it orders places as distance does.
func (p Point) Farness(q Point) float64 {
	dx, dy, dz := p.X-q.X, p.Y-q.Y, p.Z-q.Z
	return dx*dx + dy*dy + dz*dz
}
