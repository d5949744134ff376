package index

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/anyctl/anyctl/dnsgslb/geo"
)

// rowTable ranks every candidate location for every location class, once
// per prefix table and set of locations: a record ranked by distance reads
// its candidates' order off its class's row at query time, so that its
// compile cost does not grow with the classes (see live).
type rowTable struct {
	// locs are the candidate locations by id, in (latitude, longitude)
	// order; ids index them.
	locs []geo.Location
	ids  map[[2]float64]uint16
	// rows holds, per class, the location ids nearest first (ties by id):
	// class c's row is rows[c*len(locs) : (c+1)*len(locs)].
	rows []uint16
	// scopes are, per family and leaf, the prefix length of the widest
	// block around the leaf whose classes have the same row, continent,
	// country and PoP: no answer read off the rows changes within it.
	scopes [2][]uint8
}

// row is class c's ranking of the locations.
func (t *rowTable) row(c int32) []uint16 {
	n := len(t.locs)
	return t.rows[int(c)*n : int(c)*n+n]
}

// locKey is a location's key in a rowTable.
func locKey(l geo.Location) [2]float64 { return [2]float64{l.Latitude, l.Longitude} }

// compareLoc orders locations by latitude, then longitude: the order of
// row ids, and the tie-break between candidates at an equal distance.
func compareLoc(a, b geo.Location) int {
	if c := cmp.Compare(a.Latitude, b.Latitude); c != 0 {
		return c
	}
	return cmp.Compare(a.Longitude, b.Longitude)
}

// sortedLocs sorts locations by compareLoc and drops repeats.
func sortedLocs(locs []geo.Location) []geo.Location {
	slices.SortFunc(locs, compareLoc)
	return slices.CompactFunc(locs, func(a, c geo.Location) bool { return compareLoc(a, c) == 0 })
}

// buildRows ranks locs (sorted, see sortedLocs) for every class of the
// index's table.
func (b *builder) buildRows(locs []geo.Location) (*rowTable, error) {
	ix := b.ix
	if len(locs) > 1<<16 {
		return nil, fmt.Errorf("%d candidate locations: at most %d", len(locs), 1<<16)
	}
	t := &rowTable{locs: locs, ids: map[[2]float64]uint16{}, rows: make([]uint16, len(ix.clients)*len(locs))}
	for i, l := range locs {
		t.ids[locKey(l)] = uint16(i)
	}
	dist := make([]float64, len(locs))
	at := make([]geo.Point, len(locs))
	for i, l := range locs {
		at[i] = l.Point()
	}
	groups := map[string]int32{}
	group := make([]int32, len(ix.clients))
	var key strings.Builder
	for c := range ix.clients {
		if c%4096 == 0 {
			if err := b.ctx.Err(); err != nil {
				return nil, err
			}
		}
		cl := &ix.clients[c]
		for i := range locs {
			dist[i] = cl.at.Farness(at[i])
		}
		row := t.row(int32(c))
		for i := range row {
			row[i] = uint16(i)
		}
		slices.SortStableFunc(row, func(x, y uint16) int { return cmp.Compare(dist[x], dist[y]) })
		key.Reset()
		fmt.Fprintf(&key, "%s/%s/%s/", cl.class.Location.Continent, cl.class.Location.Country, cl.class.Pop)
		for _, id := range row {
			key.WriteByte(byte(id))
			key.WriteByte(byte(id >> 8))
		}
		g, ok := groups[key.String()]
		if !ok {
			g = int32(len(groups))
			groups[key.String()] = g
		}
		group[c] = g
	}
	for f, v6 := range []bool{false, true} {
		t.scopes[f] = ix.table.Scopes(v6, func(c int32) int32 { return group[c] })
	}
	return t, nil
}

// sameLocs reports whether t ranks exactly the locations locs (sorted,
// without duplicates).
func (t *rowTable) sameLocs(locs []geo.Location) bool {
	return slices.EqualFunc(t.locs, locs, func(a, c geo.Location) bool { return compareLoc(a, c) == 0 })
}
