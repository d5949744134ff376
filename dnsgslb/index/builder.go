package index

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/anyctl/anyctl/dnsgslb/geo"
)

// builder holds what one Compile computes once and shares between
// records: rankings by profile, distances by location, scope tables. What
// depends only on the GeoIP database, the PoPs' networks and the
// candidates' locations is taken from the previous index when those are
// unchanged, so a health change or an apply costs what it changes.
type builder struct {
	ctx context.Context
	ix  *Index
	// dist is, per candidate location, its distance from every class.
	dist map[[2]float64][]float64
	// profiles by profileKey.
	profiles map[string]*profile
	rttSig   string
	scratch  prepScratch
	// counted marks the profiles whose kept scope tables are counted in
	// the index's scopeCells.
	counted map[*profile]bool
	// scopeCellsBuilt counts the scope table cells this build computed.
	scopeCellsBuilt int
	// live is set when location-ranked records are answered live.
	live bool
	// prevRows is the previous index's row table when it was built against
	// the same prefix table.
	prevRows *rowTable
}

// tableKey says what a prefix table was built from: the same key builds
// the same table.
type tableKey struct {
	db      *geo.DB
	def     geo.Location
	popNets string
}

func keyOfTable(db *geo.DB, def geo.Location, nets []geo.PopNetwork) tableKey {
	var b strings.Builder
	for _, n := range nets {
		fmt.Fprintf(&b, "%s=%s@%v;", n.Prefix, n.Pop, n.Location)
	}
	return tableKey{db: db, def: def, popNets: b.String()}
}

// newBuilder starts the build of ix, reusing prev's table, distances and
// profiles when ix is located with the same table.
func newBuilder(ctx context.Context, ix *Index, prev *Index, key tableKey, popNets []geo.PopNetwork, opts Options) *builder {
	b := &builder{ctx: ctx, ix: ix, dist: map[[2]float64][]float64{}, profiles: map[string]*profile{}, counted: map[*profile]bool{}}
	if prev != nil && prev.tableKey == key {
		ix.table = prev.table
		b.dist = maps.Clone(prev.dist)
		b.profiles = prev.profiles
		b.prevRows = prev.rows
	} else {
		ix.table = geo.Build(opts.GeoIP, popNets, opts.Default)
	}
	ix.tableKey = key
	return b
}

// profile returns the record's profile, built or shared.
func (b *builder) profile(rec *record) (*profile, error) {
	k := profileKey(rec, b.rttSig)
	if p, ok := b.profiles[k]; ok {
		b.ix.profiles[k] = p
		return p, nil
	}
	p, err := b.buildProfile(rec)
	if err != nil {
		return nil, err
	}
	b.ix.profiles[k] = p
	return p, nil
}

// locations are the candidate locations of every record answered live.
func (b *builder) locations() []geo.Location {
	var out []geo.Location
	for _, rec := range b.ix.records {
		if b.useLive(rec) {
			for _, c := range rec.cands {
				out = append(out, c.location)
			}
		}
	}
	return out
}

// finish keeps, for the next build, the distances of the locations still
// in use.
func (b *builder) finish() {
	used := map[[2]float64]bool{}
	for _, rec := range b.ix.records {
		for _, c := range rec.cands {
			used[[2]float64{c.location.Latitude, c.location.Longitude}] = true
		}
	}
	b.ix.dist = map[[2]float64][]float64{}
	for k, col := range b.dist {
		if used[k] {
			b.ix.dist[k] = col
		}
	}
}

// sortedPopNets orders the PoP networks so that equal sets give equal
// table keys.
func sortedPopNets(nets []geo.PopNetwork) []geo.PopNetwork {
	slices.SortStableFunc(nets, func(a, c geo.PopNetwork) int {
		if r := strings.Compare(a.Pop, c.Pop); r != 0 {
			return r
		}
		return netip.Prefix.Compare(a.Prefix, c.Prefix)
	})
	return nets
}
