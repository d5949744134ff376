package index

import (
	"context"
	"errors"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// builder holds what one Compile computes once and shares between
// records: rankings by profile, distances by location, scope tables. What
// depends only on the GeoIP database, the PoPs' networks and the
// candidates' locations is taken from the previous index when those are
// unchanged, so a health change or an apply costs what it changes.
type builder struct {
	ctx context.Context
	ix  *Index
	// prev is the index being replaced, if any.
	prev *Index
	// quick leaves out scope tables (Options.Quick).
	quick bool
	// concurrent lets the build use every processor (Options.Concurrent).
	concurrent bool
	// placeOf numbers the classes' places (see places); nil until needed.
	placeOf *placeIDs
	// dist is, per candidate location, its distance from every class.
	dist map[[2]float64][]float64
	// profiles by profileKey.
	profiles map[string]*profile
	rttSig   string
	// scratch is where record and profile keys are put together, specBuf
	// where a record's spec is marshalled.
	scratch, specBuf []byte
	// classKey is classKeys' slice.
	classKey []int32
	// prevProfKeys are the previous index's profile keys (see profileKey).
	prevProfKeys map[string]string
	// counted marks the profiles whose kept scope tables are counted in
	// the index's scopeCells, kept those put in its profiles.
	counted, kept map[*profile]bool
	// scopeCellsBuilt counts the scope table cells this build computed.
	scopeCellsBuilt int
	// live is set when location-ranked records are answered live.
	live bool
	// prevRows is the previous index's row table when it was built against
	// the same prefix table.
	prevRows *rowTable
	// prevPlaceScopes are the previous index's placeScopes, under the same
	// condition.
	prevPlaceScopes map[string][2][]uint8
	// sameTable is the previous index when it was built against the same
	// prefix table: what depends only on the table is taken from it.
	sameTable *Index
}

// ErrNeedGeoIP is returned by Compile when the snapshot needs a prefix
// table that neither the previous index nor Options.Table has, and the
// GeoIP database to build it from is not read yet (Options.GeoIPID set,
// Options.GeoIP nil).
var ErrNeedGeoIP = errors.New("the GeoIP database is needed and not read yet")

// newBuilder starts the build of ix, reusing prev's table, distances and
// profiles when ix is located with the same table.
func newBuilder(ctx context.Context, ix *Index, prev *Index, popNets []geo.PopNetwork, opts Options) (*builder, error) {
	b := &builder{ctx: ctx, ix: ix, prev: prev, dist: map[[2]float64][]float64{}, profiles: map[string]*profile{}, counted: map[*profile]bool{}, kept: map[*profile]bool{}}
	dbID := opts.GeoIP.ID()
	if opts.GeoIP == nil && opts.GeoIPID != "" {
		dbID = opts.GeoIPID
	}
	key := geo.TableKey(dbID, popNets, opts.Default)
	// A change of the PoPs' networks alone patches the previous table.
	var patched *geo.Table
	if prev != nil && prev.table.Key() != key && (opts.Table == nil || opts.Table.Key() != key) {
		patched, _ = geo.Patch(prev.table, opts.GeoIP, popNets, opts.Default)
	}
	switch {
	case prev != nil && prev.table.Key() == key:
		ix.table = prev.table
		b.dist = maps.Clone(prev.dist)
		b.profiles = prev.profiles
		b.prevRows = prev.rows
		b.prevProfKeys = prev.profKeys
		b.prevPlaceScopes = prev.placeScopes
		b.sameTable = prev
	case opts.Table != nil && opts.Table.Key() == key:
		ix.table = opts.Table
		ix.table.Adopt(dbID, popNets, opts.Default)
	case patched != nil:
		ix.table = patched
		// The classes are the previous table's: their rankings stand,
		// their scopes, per leaf, are made again (rowsFor).
		if r := prev.rows; r != nil {
			b.prevRows = &rowTable{locs: r.locs, ids: r.ids, rows: r.rows, group: r.group}
		}
	case opts.GeoIP == nil && opts.GeoIPID != "":
		return nil, ErrNeedGeoIP
	default:
		t, err := geo.BuildContext(ctx, opts.GeoIP, popNets, opts.Default, opts.Concurrent)
		if err != nil {
			return nil, err
		}
		ix.table = t
	}
	return b, nil
}

// describeClients sets the index's clients, one per location class, and
// the build's rttSig. They depend only on the prefix table and on the
// PoPs' service and measured RTTs, and are taken from the previous index
// when those are the same: at 100,000 classes they are about 13 MB.
func (b *builder) describeClients(pops map[string]*v1.SnapshotPop) {
	ix := b.ix
	ix.popSig = popSignature(pops)
	if p := b.sameTable; p != nil && p.popSig == ix.popSig {
		ix.clients, ix.rttSig, ix.placeOf = p.clients, p.rttSig, p.placeOf
		b.placeOf, b.rttSig = p.placeOf, p.rttSig
		return
	}
	ix.clients = make([]client, 0, len(ix.table.Classes()))
	for _, c := range ix.table.Classes() {
		ix.clients = append(ix.clients, clientFor(c, pops))
	}
	ix.rttSig = rttSignature(ix.clients)
	b.rttSig = ix.rttSig
}

// profile returns the record's profile, built or shared: with a record
// of this build (in the index's profiles), or of the previous index.
func (b *builder) profile(rec *record) (*profile, error) {
	k := rec.profKey
	if p, ok := b.ix.profiles[k]; ok {
		return p, nil
	}
	if p, ok := b.profiles[k]; ok {
		b.keepProfile(p)
		return p, nil
	}
	p, err := b.buildProfile(rec)
	if err != nil {
		return nil, err
	}
	p.key = k
	b.ix.profiles[k] = p
	return p, nil
}

// profilesOrNil is ix's profiles; nil for a nil index: the size the next
// build's are made for.
func (ix *Index) profilesOrNil() map[string]*profile {
	if ix == nil {
		return nil
	}
	return ix.profiles
}

// keepProfile puts p in the index's profiles, for the next build: once,
// found by its pointer, so that the thousands of records sharing a few
// profiles do not each hash its long key.
func (b *builder) keepProfile(p *profile) {
	if !b.kept[p] {
		b.kept[p] = true
		b.ix.profiles[p.key] = p
	}
}

// locations are the candidate locations of every record answered live,
// each once.
func (b *builder) locations() []geo.Location {
	var out []geo.Location
	// By coordinates first: hashing two numbers costs less than a
	// location's names, for thousands of candidates.
	seen := map[[2]float64][]int32{}
	for _, rec := range b.ix.records {
		if !b.useLive(rec) {
			continue
		}
	cands:
		for i := range rec.cands {
			loc := &rec.cands[i].location
			k := [2]float64{loc.Latitude, loc.Longitude}
			at := seen[k]
			for _, j := range at {
				if out[j] == *loc {
					continue cands
				}
			}
			seen[k] = append(at, int32(len(out)))
			out = append(out, *loc)
		}
	}
	return out
}

// finish keeps, for the next build, the distances of the locations still
// in use. The few dozen locations are most often all found in the first
// records: the search stops then.
func (b *builder) finish() {
	if len(b.dist) == 0 {
		b.ix.dist = b.dist
		return
	}
	used := make(map[[2]float64]bool, len(b.dist))
recs:
	for _, rec := range b.ix.records {
		for _, c := range rec.cands {
			k := [2]float64{c.location.Latitude, c.location.Longitude}
			if _, ok := b.dist[k]; ok && !used[k] {
				used[k] = true
				if len(used) == len(b.dist) {
					break recs
				}
			}
		}
	}
	if len(used) == len(b.dist) {
		b.ix.dist = b.dist // the build's own (a clone of the previous)
		return
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
