package geo

import (
	"cmp"
	"context"
	"maps"
	"net/netip"
	"slices"
)

// PopNetwork is a network a PoP's caches query from.
type PopNetwork struct {
	Prefix   netip.Prefix
	Pop      string
	Location Location
}

// Build compiles the GeoIP database (nil for none), the PoPs' cache
// networks and the default location into a Table. A cache network wins over
// the database; a more specific cache network wins over a wider one.
func Build(db *DB, pops []PopNetwork, def Location) *Table {
	t, _ := build(context.Background(), db, pops, def, false)
	return t
}

// BuildConcurrently is Build with the two address families built at once,
// for when nothing else needs the CPU: a server's first build.
func BuildConcurrently(db *DB, pops []PopNetwork, def Location) *Table {
	t, _ := build(context.Background(), db, pops, def, true)
	return t
}

// BuildContext is Build, or BuildConcurrently when concurrently, that
// ends with ctx's error soon after ctx does: between the passes over the
// networks, a few hundred milliseconds apart at City size.
func BuildContext(ctx context.Context, db *DB, pops []PopNetwork, def Location, concurrently bool) (*Table, error) {
	return build(ctx, db, pops, def, concurrently)
}

func build(ctx context.Context, db *DB, pops []PopNetwork, def Location, concurrently bool) (*Table, error) {
	dbID := db.ID()
	key := TableKey(dbID, pops, def)
	if db == nil {
		db = &DB{}
	}
	t := &Table{key: key, classes: slices.Clone(db.classes)}
	for _, c := range db.unplaced {
		// A record that says nowhere places its clients no better than a
		// missing one: at the default location, keeping its country.
		t.classes[c].Location.Latitude, t.classes[c].Location.Longitude = def.Latitude, def.Longitude
	}
	defClass := int32(len(t.classes))
	t.classes = append(t.classes, Class{Location: def, Source: "default"})
	pops, popClass, classes := popClasses(pops, defClass+1)
	t.classes = append(t.classes, classes...)
	t.built = &builtFrom{dbID: dbID, pops: pops, def: def}
	// The PoP networks are laid over a tiling of their own first (few
	// blocks), then over the database's in one pass.
	layer4 := []span{{bits: 0, class: noClass}}
	layer6 := []span{{bits: 0, class: noClass}}
	for _, p := range pops {
		c := popClass[p.Pop]
		a := p.Prefix.Addr()
		s := span{start: fromAddr(a), bits: p.Prefix.Bits(), class: c}
		if a.Is4() {
			layer4 = overlay(layer4, s, 32)
		} else {
			layer6 = overlay(layer6, s, 128)
		}
	}
	buildFamily := func(f *family, spans, layer []span, width int) error {
		tiling := fill(spans, width, defClass)
		if err := ctx.Err(); err != nil {
			return err
		}
		tiling = overlayLayer(tiling, layer, width)
		if err := ctx.Err(); err != nil {
			return err
		}
		tiling = mergeClasses(tiling, width)
		if err := ctx.Err(); err != nil {
			return err
		}
		*f = newFamily(tiling, width)
		return nil
	}
	if !concurrently {
		if err := buildFamily(&t.v4, db.v4, layer4, 32); err != nil {
			return nil, err
		}
		if err := buildFamily(&t.v6, db.v6, layer6, 128); err != nil {
			return nil, err
		}
		return t, nil
	}
	v6err := make(chan error, 1)
	go func() { v6err <- buildFamily(&t.v6, db.v6, layer6, 128) }()
	err := buildFamily(&t.v4, db.v4, layer4, 32)
	if err6 := <-v6err; err == nil {
		err = err6
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// popClasses sorts the PoP networks as Build lays them, wider first (a
// copy, each prefix as lookupPrefix has it), and numbers the PoPs' classes
// from first, by name: a PoP's networks added or removed leave the
// numbers as they are (see Patch). A PoP is at the location of its widest
// network given first.
func popClasses(pops []PopNetwork, first int32) (sorted []PopNetwork, classOf map[string]int32, classes []Class) {
	sorted = slices.Clone(pops)
	for i := range sorted {
		sorted[i].Prefix = lookupPrefix(sorted[i].Prefix)
	}
	slices.SortStableFunc(sorted, func(a, b PopNetwork) int { return cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()) })
	at := map[string]Location{}
	for _, p := range sorted {
		if _, ok := at[p.Pop]; !ok {
			at[p.Pop] = p.Location
		}
	}
	classOf = map[string]int32{}
	for _, name := range slices.Sorted(maps.Keys(at)) {
		classOf[name] = first + int32(len(classes))
		classes = append(classes, Class{Location: at[name], Pop: name, Source: "pop"})
	}
	return sorted, classOf, classes
}

// lookupPrefix is p as Lookup sees its addresses: without host bits, and
// an IPv4-mapped network as the IPv4 network it maps, so that
// ::ffff:192.0.2.0/120 is as specific as 192.0.2.0/24.
func lookupPrefix(p netip.Prefix) netip.Prefix {
	p = p.Masked()
	if p.Addr().Is4In6() {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

// noClass marks the parts of a layer that leave the tiling below as it is.
const noClass = -1

// overlayLayer lays layer, a tiling whose blocks of class noClass are
// transparent, over tiling, in one pass over both: the result is the
// common refinement, each block taking the layer's class where it has one.
func overlayLayer(tiling, layer []span, width int) []span {
	if len(layer) == 1 && layer[0].class == noClass {
		return tiling
	}
	out := make([]span, 0, len(tiling)+len(layer)*width)
	i, j := 0, 0
	pos := u128{}
	for i < len(tiling) && j < len(layer) {
		d, l := tiling[i], layer[j]
		dEnd, lEnd := d.end(width), l.end(width)
		end := dEnd
		if lEnd.less(end) {
			end = lEnd
		}
		class := d.class
		if l.class != noClass {
			class = l.class
		}
		if pos == d.start && end == dEnd {
			out = append(out, span{start: d.start, bits: d.bits, class: class})
		} else {
			out = decompose(out, pos, end, width, class)
		}
		if end == hostMask(width) {
			break
		}
		pos = end.add1()
		if end == dEnd {
			i++
		}
		if end == lEnd {
			j++
		}
	}
	return out
}

// mergeClasses joins sibling leaves of the same class, so that a leaf is the
// widest block its class covers. A first pass counts the blocks.
func mergeClasses(tiling []span, width int) []span {
	merge := func(emit func(block)) {
		mergeBlocks(len(tiling), width,
			func(i int) u128 { return tiling[i].start },
			func(i int) int { return tiling[i].bits },
			func(i int) int32 { return tiling[i].class },
			emit)
	}
	n := 0
	merge(func(block) { n++ })
	out := make([]span, 0, n)
	merge(func(b block) { out = append(out, span{start: b.start, bits: int(b.bits), class: b.key}) })
	return out
}
