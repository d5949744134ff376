package index

import (
	"cmp"
	"fmt"
	"slices"

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
	// group numbers, per class, the classes with the same row, continent,
	// country and PoP: no answer read off the rows differs between them.
	group []int32
	// scopes are, per family and leaf, the prefix length of the widest
	// block around the leaf whose classes are of one group; nil when built
	// quick (Options.Quick).
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
	at := make([]geo.Point, len(locs))
	for i, l := range locs {
		at[i] = l.Point()
	}
	// The rows are ranked in pieces, each naming its classes' groups by
	// key; the groups are numbered after, in class order.
	keys := make([]string, len(ix.clients))
	if _, err := split(b, len(ix.clients), func(lo, hi int) (struct{}, error) {
		type near struct {
			d  float64
			id uint16
		}
		byDist := make([]near, len(locs))
		var key []byte
		for c := lo; c < hi; c++ {
			if c%4096 == 0 {
				if err := b.ctx.Err(); err != nil {
					return struct{}{}, err
				}
			}
			cl := &ix.clients[c]
			for i := range locs {
				byDist[i] = near{cl.at.Farness(at[i]), uint16(i)}
			}
			// Nearest first, ties by id.
			slices.SortFunc(byDist, func(x, y near) int {
				if c := cmp.Compare(x.d, y.d); c != 0 {
					return c
				}
				return cmp.Compare(x.id, y.id)
			})
			row := t.row(int32(c))
			for i, n := range byDist {
				row[i] = n.id
			}
			key = append(key[:0], cl.class.Location.Continent...)
			key = append(key, '/')
			key = append(key, cl.class.Location.Country...)
			key = append(key, '/')
			key = append(key, cl.class.Pop...)
			key = append(key, '/')
			for _, id := range row {
				key = append(key, byte(id), byte(id>>8))
			}
			keys[c] = string(key)
		}
		return struct{}{}, nil
	}); err != nil {
		return nil, err
	}
	groups := map[string]int32{}
	group := make([]int32, len(ix.clients))
	for c, k := range keys {
		g, ok := groups[k]
		if !ok {
			g = int32(len(groups))
			groups[k] = g
		}
		group[c] = g
	}
	t.group = group
	if !b.quick {
		t.scopes = b.rowScopes(group)
	}
	return t, nil
}

// rowScopes computes a rowTable's scopes from its groups.
func (b *builder) rowScopes(group []int32) [2][]uint8 {
	var s [2][]uint8
	for f, v6 := range []bool{false, true} {
		s[f] = b.ix.table.ScopesByClass(v6, group)
	}
	return s
}

// sameLocs reports whether t ranks exactly the locations locs (sorted,
// without duplicates).
func (t *rowTable) sameLocs(locs []geo.Location) bool {
	return slices.EqualFunc(t.locs, locs, func(a, c geo.Location) bool { return compareLoc(a, c) == 0 })
}
