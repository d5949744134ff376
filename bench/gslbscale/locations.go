package gslbscale

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// places are the distinct locations of a database, grouped by country, and
// what picks one for a network.
type places struct {
	recs []mmdbtype.Map
	// byCountry lists each country's locations, the country-level one
	// (no city) first; empty for countries that got none.
	byCountry [][]int32
	// next is, per country, its first location no network names yet.
	next []int
	// unused lists the countries with locations no network names yet; at
	// is each country's index in it.
	unused []int
	at     []int
}

// share is each country's expected fraction of the networks: its
// registry's share of the address space times its weight in the registry.
func share(v4Share [registries]float64) []float64 {
	var regWeight [registries]float64
	for i := range countries {
		regWeight[registryOf(&countries[i])] += countries[i].weight
	}
	var total float64
	for _, w := range regWeight {
		total += w
	}
	out := make([]float64, len(countries))
	for i := range countries {
		c := &countries[i]
		r := registryOf(c)
		// IPv6 chunks go to registries by weight; IPv4 by the /8s they hold.
		out[i] = (ipv4Fraction*v4Share[r] + (1-ipv4Fraction)*regWeight[r]/total) * c.weight / regWeight[r]
	}
	return out
}

// newPlaces makes n distinct locations: at least one per country while n
// lasts, by expected share of networks, the rest in proportion to it.
func newPlaces(n int, shares []float64, r *rand.Rand) *places {
	order := make([]int, len(countries))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(shares[b], shares[a]) })
	count := make([]int, len(countries))
	left := n
	for _, c := range order {
		if left == 0 {
			break
		}
		count[c]++
		left--
	}
	// Largest remainder for the rest.
	if left > 0 {
		rest := left
		frac := make([]float64, len(countries))
		for _, c := range order {
			x := float64(rest) * shares[c]
			k := int(x)
			count[c] += k
			left -= k
			frac[c] = x - float64(k)
		}
		byFrac := slices.Clone(order)
		slices.SortStableFunc(byFrac, func(a, b int) int { return cmp.Compare(frac[b], frac[a]) })
		for i := 0; left > 0; i++ {
			count[byFrac[i%len(byFrac)]]++
			left--
		}
	}
	p := &places{byCountry: make([][]int32, len(countries)), next: make([]int, len(countries)), at: make([]int, len(countries))}
	cityID := uint32(2_000_000)
	for ci := range countries {
		c := &countries[ci]
		subs := subdivisions(c, count[ci], r)
		for k := range count[ci] {
			id := int32(len(p.recs))
			p.byCountry[ci] = append(p.byCountry[ci], id)
			if k == 0 {
				p.recs = append(p.recs, countryRecord(ci, r))
				continue
			}
			cityID++
			p.recs = append(p.recs, cityRecord(ci, cityID, subs[r.IntN(len(subs))], r))
		}
		p.at[ci] = -1
		if count[ci] > 0 {
			p.at[ci] = len(p.unused)
			p.unused = append(p.unused, ci)
		}
	}
	return p
}

// pick returns a location in country c for a network, other than prev: a
// location no network names yet when fresh or half of the time, else one
// skewed towards the country's big cities. It returns -1 when c has no
// other location.
func (p *places) pick(c int, prev int32, fresh bool, r *rand.Rand) int32 {
	ids := p.byCountry[c]
	if len(ids) == 0 || len(ids) == 1 && ids[0] == prev {
		return -1
	}
	var i int
	if p.next[c] < len(ids) && (fresh || r.IntN(2) == 0) && ids[p.next[c]] != prev {
		i = p.next[c]
		p.next[c]++
		if p.next[c] == len(ids) {
			p.used(c)
		}
	} else {
		u := r.Float64()
		i = int(float64(len(ids)) * u * u * u)
	}
	if ids[i] == prev {
		i = (i + 1) % len(ids)
	}
	return ids[i]
}

// used takes country c, every location of which networks now name, off
// the unused list.
func (p *places) used(c int) {
	i := p.at[c]
	last := p.unused[len(p.unused)-1]
	p.unused[i] = last
	p.at[last] = i
	p.unused = p.unused[:len(p.unused)-1]
	p.at[c] = -1
}

// subdivision is a first-level subdivision (state, province) of a country.
type subdivision struct {
	id        uint32
	iso, name string
}

func subdivisions(c *country, cities int, r *rand.Rand) []subdivision {
	n := min(max(cities/25, 1), 60)
	out := make([]subdivision, n)
	seen := map[string]bool{}
	for i := range out {
		iso := ""
		for iso == "" || seen[iso] {
			iso = string([]byte{byte('A' + r.IntN(26)), byte('A' + r.IntN(26))})
		}
		seen[iso] = true
		out[i] = subdivision{id: 5_000_000 + uint32(r.IntN(1_000_000)), iso: iso, name: placeName(r)}
	}
	return out
}

func names(en string) mmdbtype.Map { return mmdbtype.Map{"en": mmdbtype.String(en)} }

func countryMap(ci int) mmdbtype.Map {
	c := &countries[ci]
	return mmdbtype.Map{
		"geoname_id": mmdbtype.Uint32(3_000_000 + ci),
		"iso_code":   mmdbtype.String(c.iso),
		"names":      names(c.name),
	}
}

func continentMap(code string) mmdbtype.Map {
	return mmdbtype.Map{
		"code":       mmdbtype.String(code),
		"geoname_id": mmdbtype.Uint32(continentIDs[code]),
		"names":      names(continentNames[code]),
	}
}

// registeredCountry is usually the country itself; sometimes the network is
// registered elsewhere (a multinational's or a transit provider's block).
func registeredCountry(ci int, r *rand.Rand) mmdbtype.Map {
	if r.IntN(20) == 0 {
		return countryMap(r.IntN(len(countries)))
	}
	return countryMap(ci)
}

// countryRecord is a network located only to its country, as a City
// database has for addresses it knows no more about.
func countryRecord(ci int, r *rand.Rand) mmdbtype.Map {
	c := &countries[ci]
	return mmdbtype.Map{
		"continent": continentMap(c.continent),
		"country":   countryMap(ci),
		"location": mmdbtype.Map{
			"accuracy_radius": mmdbtype.Uint16(1000),
			"latitude":        mmdbtype.Float64(round4(c.lat)),
			"longitude":       mmdbtype.Float64(round4(c.lon)),
			"time_zone":       mmdbtype.String(timeZone(c.lon)),
		},
		"registered_country": registeredCountry(ci, r),
	}
}

func cityRecord(ci int, id uint32, sub subdivision, r *rand.Rand) mmdbtype.Map {
	c := &countries[ci]
	lat := min(max(c.lat+r.NormFloat64()*c.radius*0.6, -89.9), 89.9)
	lon := c.lon + r.NormFloat64()*c.radius/max(math.Cos(c.lat*math.Pi/180), 0.3)
	lon = math.Mod(lon+540, 360) - 180
	rec := mmdbtype.Map{
		"city":      mmdbtype.Map{"geoname_id": mmdbtype.Uint32(id), "names": names(placeName(r))},
		"continent": continentMap(c.continent),
		"country":   countryMap(ci),
		"location": mmdbtype.Map{
			"accuracy_radius": mmdbtype.Uint16([]uint16{1, 5, 10, 20, 50, 100, 200}[r.IntN(7)]),
			"latitude":        mmdbtype.Float64(round4(lat)),
			"longitude":       mmdbtype.Float64(round4(lon)),
			"time_zone":       mmdbtype.String(timeZone(lon)),
		},
		"registered_country": registeredCountry(ci, r),
		"subdivisions": mmdbtype.Slice{mmdbtype.Map{
			"geoname_id": mmdbtype.Uint32(sub.id),
			"iso_code":   mmdbtype.String(sub.iso),
			"names":      names(sub.name),
		}},
	}
	if r.IntN(5) < 3 {
		rec["postal"] = mmdbtype.Map{"code": mmdbtype.String(fmt.Sprintf("%05d", r.IntN(100000)))}
	}
	return rec
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// timeZone is an Etc/GMT zone from the longitude; real databases name the
// tz database zone, which is the same shape of string.
func timeZone(lon float64) string {
	off := int(math.Round(lon / 15))
	if off == 0 {
		return "Etc/UTC"
	}
	// Etc/GMT zones have the POSIX sign: east of Greenwich is negative.
	return fmt.Sprintf("Etc/GMT%+d", -off)
}

var syllables = strings.Fields("ka lo mi ra ven dor sha tel bur gan ri so na ber lin ton ma ko ha ye ar el os ul za qui pe ta ni mo")
var suffixes = strings.Fields("ville ham ford stad burg grad pur abad shi zhou yama hama polis dale port field wick")

// placeName is a made-up name of two to four syllables, sometimes with a
// town suffix.
func placeName(r *rand.Rand) string {
	var b strings.Builder
	for range 2 + r.IntN(2) {
		b.WriteString(syllables[r.IntN(len(syllables))])
	}
	if r.IntN(3) == 0 {
		b.WriteString(suffixes[r.IntN(len(suffixes))])
	}
	s := b.String()
	return strings.ToUpper(s[:1]) + s[1:]
}
