package geo

import (
	"net/netip"
	"slices"
	"sort"
)

// Patch returns the table Build(db, pops, def) returns, made from t, a
// table Build made from the same database and default location with other
// PoP networks: only the blocks of the PoP networks that changed are built
// again, from the database, the default and the PoP networks, and joined
// with the leaves around them, so that a PoP's cache network added or
// removed costs what it covers, not a pass over millions of networks. ok
// is false when t cannot be patched: read from a file (unless Adopt said
// what it was built from), made from another
// database or default location, or the PoPs' classes differ (a PoP added
// or gone, or moved). Build it then.
func Patch(t *Table, db *DB, pops []PopNetwork, def Location) (_ *Table, ok bool) {
	if t == nil || t.built == nil || t.built.dbID != db.ID() || t.built.def != def {
		return nil, false
	}
	first := int32(len(t.classes) - popCount(t.built.pops))
	sorted, classOf, classes := popClasses(pops, first)
	if !slices.Equal(t.classes[first:], classes) {
		return nil, false
	}
	if db == nil {
		db = &DB{}
	}
	out := &Table{
		key:     TableKey(db.ID(), pops, def),
		v4:      t.v4,
		v6:      t.v6,
		classes: t.classes,
		built:   &builtFrom{dbID: t.built.dbID, pops: sorted, def: def},
	}
	defClass := first - 1
	for _, p := range changedPrefixes(t.built.pops, sorted) {
		f, spans, width := &out.v4, db.v4, 32
		if p.Addr().Is6() {
			f, spans, width = &out.v6, db.v6, 128
		}
		*f = f.patched(span{start: fromAddr(p.Addr()), bits: p.Bits()}, spans, sorted, classOf, defClass, width)
	}
	return out, true
}

// Adopt tells t, read from a file, what it was built from, when its key
// says it was built from them (TableKey(dbID, pops, def)): Patch can then
// patch it. It reports whether the key matched; t must not be in use yet.
func (t *Table) Adopt(dbID string, pops []PopNetwork, def Location) bool {
	if t.built != nil || TableKey(dbID, pops, def) != t.key {
		return t.built != nil
	}
	sorted, _, _ := popClasses(pops, 0)
	t.built = &builtFrom{dbID: dbID, pops: sorted, def: def}
	return true
}

// popCount is the number of PoPs the networks name.
func popCount(pops []PopNetwork) int {
	seen := map[string]bool{}
	for _, p := range pops {
		seen[p.Pop] = true
	}
	return len(seen)
}

// changedPrefixes are the prefixes whose PoPs differ between two sorted
// lists of PoP networks: added, removed, or given to other PoPs or in
// another order (the last given wins).
func changedPrefixes(was, now []PopNetwork) []netip.Prefix {
	by := func(pops []PopNetwork) map[netip.Prefix][]string {
		m := map[netip.Prefix][]string{}
		for _, p := range pops {
			m[p.Prefix] = append(m[p.Prefix], p.Pop)
		}
		return m
	}
	a, b := by(was), by(now)
	var out []netip.Prefix
	for p, pa := range a {
		if !slices.Equal(pa, b[p]) {
			out = append(out, p)
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(x, y netip.Prefix) int {
		if c := x.Addr().Compare(y.Addr()); c != 0 {
			return c
		}
		return x.Bits() - y.Bits()
	})
	return out
}

// patched is f with the leaves of the block p built again: the block r,
// p or the leaf holding it if wider, is tiled from the database's spans,
// the default class and the PoP networks, its leaves merged, and the
// result joined with r's siblings while they are one leaf of the same
// class, as Build merges them.
func (f *family) patched(p span, spans []span, pops []PopNetwork, classOf map[string]int32, defClass int32, width int) family {
	r := p
	if i := f.find(p.start); int(f.bits[i]) < p.bits {
		r = span{start: f.starts[i], bits: int(f.bits[i])}
	}
	leaves := mergeClasses(regionTiling(spans, pops, classOf, r, defClass, width), width)
	for len(leaves) == 1 && r.bits > 0 {
		bit := hostMask(width - r.bits + 1).andNot(hostMask(width - r.bits))
		sib := r.start.or(bit)
		if sib == r.start {
			sib = r.start.andNot(bit)
		}
		k := f.find(sib)
		if f.starts[k] != sib || int(f.bits[k]) != r.bits || f.class[k] != leaves[0].class {
			break
		}
		r = span{start: r.start.andNot(bit), bits: r.bits - 1}
		leaves = []span{{start: r.start, bits: r.bits, class: leaves[0].class}}
	}
	i, j := f.find(r.start), f.find(r.end(width))+1
	n := len(f.starts) - (j - i) + len(leaves)
	out := family{width: width, starts: make([]u128, 0, n), class: make([]int32, 0, n), bits: make([]uint8, 0, n)}
	out.starts = append(out.starts, f.starts[:i]...)
	out.class = append(out.class, f.class[:i]...)
	out.bits = append(out.bits, f.bits[:i]...)
	for _, l := range leaves {
		out.starts = append(out.starts, l.start)
		out.class = append(out.class, l.class)
		out.bits = append(out.bits, uint8(l.bits))
	}
	out.starts = append(out.starts, f.starts[j:]...)
	out.class = append(out.class, f.class[j:]...)
	out.bits = append(out.bits, f.bits[j:]...)
	return out
}

// regionTiling tiles the block r as Build's pass tiles it before merging:
// the database's spans within r, the gaps given defClass, and over them
// the PoP networks meeting r, wider first.
func regionTiling(spans []span, pops []PopNetwork, classOf map[string]int32, r span, defClass int32, width int) []span {
	rend := r.end(width)
	var out []span
	// The last span starting at or before r, which may hold all of r.
	k := sort.Search(len(spans), func(i int) bool { return r.start.less(spans[i].start) }) - 1
	if k >= 0 && !spans[k].end(width).less(r.start) && spans[k].bits <= r.bits {
		out = []span{{start: r.start, bits: r.bits, class: spans[k].class}}
	} else {
		pos, done := r.start, false
		for i := max(k, 0); i < len(spans) && !rend.less(spans[i].start); i++ {
			s := spans[i]
			if s.end(width).less(r.start) || s.start.less(pos) {
				continue // before r, or overlapping the span before (as fill skips it)
			}
			if pos.less(s.start) {
				out = decompose(out, pos, s.start.sub1(), width, defClass)
			}
			out = append(out, s)
			if s.end(width) == rend {
				done = true
				break
			}
			pos = s.end(width).add1()
		}
		if !done {
			out = decompose(out, pos, rend, width, defClass)
		}
	}
	v6 := width == 128
	for _, p := range pops {
		if p.Prefix.Addr().Is6() != v6 {
			continue
		}
		ps := span{start: fromAddr(p.Prefix.Addr()), bits: p.Prefix.Bits(), class: classOf[p.Pop]}
		switch {
		case ps.bits <= r.bits && ps.start == r.start.andNot(hostMask(width-ps.bits)):
			out = []span{{start: r.start, bits: r.bits, class: ps.class}}
		case ps.bits > r.bits && r.start == ps.start.andNot(hostMask(width-r.bits)):
			out = overlay(out, ps, width)
		}
	}
	return out
}
