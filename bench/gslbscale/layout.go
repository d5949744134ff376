package gslbscale

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// ipv4Fraction is the share of a database's networks that are IPv4.
const ipv4Fraction = 0.8

// prefixWeight is how often a prefix length occurs, before tilting.
type prefixWeight struct {
	bits   int
	weight float64
}

// v4Prefixes are mostly /18 to /24, some shorter, a few longer: tilted
// towards the longer ones when the networks would not fit otherwise.
var v4Prefixes = []prefixWeight{
	{16, 1.5}, {17, 2}, {18, 4}, {19, 5}, {20, 8}, {21, 10}, {22, 12}, {23, 15}, {24, 38},
	{25, 1.5}, {26, 1.5}, {27, 0.8}, {28, 0.7},
}

// v6Prefixes are inside a /32: end-site /48s most of all.
var v6Prefixes = []prefixWeight{
	{32, 0.5}, {34, 1}, {36, 4}, {40, 10}, {44, 15}, {46, 6}, {47, 6}, {48, 40}, {52, 5}, {56, 8}, {64, 4},
}

// prefixDist draws prefix lengths.
type prefixDist struct {
	bits []int
	cum  []float64
}

// newPrefixDist tilts the weights by t per bit of length (t > 1 favours
// long prefixes), so that the mean block size is at most target (in units
// of the chunk's smallest block, 2^(width-bits)).
func newPrefixDist(ws []prefixWeight, width int, target float64) prefixDist {
	mean := func(t float64) float64 {
		var sum, n float64
		for _, w := range ws {
			p := w.weight * math.Pow(t, float64(w.bits-ws[0].bits))
			sum += p * math.Exp2(float64(width-w.bits))
			n += p
		}
		return sum / n
	}
	t := 1.0
	if mean(1) > target {
		lo, hi := 1.0, 64.0
		for range 60 {
			t = (lo + hi) / 2
			if mean(t) > target {
				lo = t
			} else {
				hi = t
			}
		}
		t = hi
	}
	d := prefixDist{}
	var c float64
	for _, w := range ws {
		c += w.weight * math.Pow(t, float64(w.bits-ws[0].bits))
		d.bits = append(d.bits, w.bits)
		d.cum = append(d.cum, c)
	}
	return d
}

func (d prefixDist) draw(r *rand.Rand) int {
	x := r.Float64() * d.cum[len(d.cum)-1]
	i, _ := slices.BinarySearch(d.cum, x)
	return d.bits[min(i, len(d.bits)-1)]
}

// chunkNetworks lays out k networks in a chunk of the given prefix length:
// prefix lengths from d, made longer while they do not fit in it,
// packed largest first (so each is aligned) with some gaps between them.
// It returns the networks' offsets (in units of /width-bit blocks shifted
// by width-bits, i.e. the block index times its size) and prefix lengths.
func chunkNetworks(k, chunkBits, width int, d prefixDist, r *rand.Rand) (offsets []uint64, bits []int) {
	bits = make([]int, k)
	for i := range bits {
		bits[i] = max(d.draw(r), chunkBits)
	}
	slices.Sort(bits)
	// Sizes are counted in blocks of the longest allowed prefix so they fit
	// in a uint64 for IPv6 too.
	unit := width - 64
	if unit < 0 {
		unit = 0
	}
	size := func(b int) uint64 { return 1 << uint(width-unit-b) }
	capacity := uint64(1) << uint(width-unit-chunkBits)
	var sum uint64
	for _, b := range bits {
		sum += size(b)
	}
	for sum > capacity {
		// Halve the largest network (the first: bits are sorted).
		sum -= size(bits[0]) / 2
		bits[0]++
		slices.Sort(bits)
	}
	slack := capacity - sum
	offsets = make([]uint64, k)
	var at uint64
	for i, b := range bits {
		s := size(b)
		if slack >= s && r.IntN(4) == 0 {
			at += s
			slack -= s
		}
		offsets[i] = at
		at += s
	}
	return offsets, bits
}

// spread says how many networks each of n chunks gets, in total want, as
// evenly as possible with random rounding: chunk i gets the rest divided by
// the chunks left, rounded up or down at random.
type spread struct {
	left, chunks int
}

func (s *spread) next(r *rand.Rand) int {
	if s.chunks <= 0 {
		return 0
	}
	x := float64(s.left) / float64(s.chunks)
	k := int(x)
	if r.Float64() < x-float64(k) {
		k++
	}
	k = min(k, s.left)
	s.left -= k
	s.chunks--
	return k
}

// countryPicker draws countries by weight, within a registry or anywhere.
type countryPicker struct {
	ids [registries + 1][]int
	cum [registries + 1][]float64
}

// newCountryPicker weighs countries that have locations by their weight.
func newCountryPicker(p *places) *countryPicker {
	cp := &countryPicker{}
	for i := range countries {
		if len(p.byCountry[i]) == 0 {
			continue
		}
		for _, g := range []registry{registryOf(&countries[i]), registries} {
			c := countries[i].weight
			if n := len(cp.cum[g]); n > 0 {
				c += cp.cum[g][n-1]
			}
			cp.ids[g] = append(cp.ids[g], i)
			cp.cum[g] = append(cp.cum[g], c)
		}
	}
	return cp
}

// draw picks a country of registry g, or of any registry when g is
// registries or g has none.
func (cp *countryPicker) draw(g registry, r *rand.Rand) int {
	if len(cp.ids[g]) == 0 {
		g = registries
	}
	cum := cp.cum[g]
	x := r.Float64() * cum[len(cum)-1]
	i, _ := slices.BinarySearchFunc(cum, x, cmp.Compare[float64])
	return cp.ids[g][min(i, len(cum)-1)]
}
