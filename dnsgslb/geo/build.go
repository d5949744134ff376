package geo

import (
	"cmp"
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
	if db == nil {
		db = &DB{}
	}
	t := &Table{classes: slices.Clone(db.classes)}
	defClass := int32(len(t.classes))
	t.classes = append(t.classes, Class{Location: def, Source: "default"})

	popClass := map[string]int32{}
	pops = slices.Clone(pops)
	slices.SortStableFunc(pops, func(a, b PopNetwork) int { return cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()) })
	v4 := fill(db.v4, 32, defClass)
	v6 := fill(db.v6, 128, defClass)
	for _, p := range pops {
		c, ok := popClass[p.Pop]
		if !ok {
			c = int32(len(t.classes))
			t.classes = append(t.classes, Class{Location: p.Location, Pop: p.Pop, Source: "pop"})
			popClass[p.Pop] = c
		}
		pfx := p.Prefix.Masked()
		a := pfx.Addr().Unmap()
		bits := pfx.Bits()
		if pfx.Addr().Is4In6() {
			bits -= 96
			if bits < 0 {
				continue
			}
		}
		s := span{start: fromAddr(a), bits: bits, class: c}
		if a.Is4() {
			v4 = overlay(v4, s, 32)
		} else {
			v6 = overlay(v6, s, 128)
		}
	}
	t.v4 = newFamily(mergeClasses(v4, 32), 32)
	t.v6 = newFamily(mergeClasses(v6, 128), 128)
	return t
}

// mergeClasses joins sibling leaves of the same class, so that a leaf is the
// widest block its class covers.
func mergeClasses(tiling []span, width int) []span {
	blocks := mergeBlocks(tiling, width, func(i int) int32 { return tiling[i].class })
	out := make([]span, len(blocks))
	for i, b := range blocks {
		out[i] = span{start: b.start, bits: b.bits, class: b.key}
	}
	return out
}
