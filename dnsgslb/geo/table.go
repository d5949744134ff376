package geo

import (
	"net/netip"
)

// family is the compiled partition of one address family.
type family struct {
	width  int
	starts []u128
	class  []int32
	bits   []uint8
	// held is the memory outside the heap that starts, class and bits
	// are views of (a table read from a file, ReadTableFile), given back
	// once no family refers to it; nil when they are the heap's. Every
	// copy of the family carries it: a table patched from one read
	// shares the family it did not patch, and outlives the table read.
	held *heldMemory
}

// heldMemory is memory outside the heap that families are views of.
// It is not a tiny allocation (pointer-free, under 16 bytes), whose
// cleanup may never run.
type heldMemory struct{ b []byte }

func newFamily(tiling []span, width int) family {
	f := family{
		width:  width,
		starts: make([]u128, len(tiling)),
		class:  make([]int32, len(tiling)),
		bits:   make([]uint8, len(tiling)),
	}
	for i, s := range tiling {
		f.starts[i], f.class[i], f.bits[i] = s.start, s.class, uint8(s.bits)
	}
	return f
}

func (f *family) find(a u128) int {
	s := f.starts
	lo, hi := 0, len(s)
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if a.less(s[m]) {
			hi = m
		} else {
			lo = m
		}
	}
	return lo
}

// Table is the compiled prefix table of one snapshot. It is immutable.
type Table struct {
	// key names what the table was built from (see TableKey).
	key string
	// inPlace is set when the families are views of the read-only copy
	// of a table file (ReadTableFile), which must not be written to.
	inPlace bool
	v4, v6  family
	classes []Class
	// built is what Build made the table from, for Patch; nil for a
	// table read from a file until Adopt.
	built *builtFrom
	// readDBID is the ID of the database a table read from a file was
	// built from, as the file says.
	readDBID string
}

// builtFrom is what a table was built from: its database (by ID), its
// PoP networks (as popClasses sorts them) and its default location.
type builtFrom struct {
	dbID string
	pops []PopNetwork
	def  Location
}

// DBID names the GeoIP database the table was built from (DB.ID), "" when
// it is not known.
func (t *Table) DBID() string {
	if t.built != nil {
		return t.built.dbID
	}
	return t.readDBID
}

// Key names what the table was built from: TableKey of its database, PoP
// networks and default location.
func (t *Table) Key() string { return t.key }

// Leaf is the result of a lookup: which leaf of which family holds the
// address, its class and its prefix length.
type Leaf struct {
	V6    bool
	Index int
	Class int32
	Bits  uint8
}

// Lookup finds the leaf holding a. IPv4-mapped IPv6 addresses are looked up
// as IPv4.
func (t *Table) Lookup(a netip.Addr) Leaf {
	a = a.Unmap()
	f, v6 := &t.v4, false
	if a.Is6() {
		f, v6 = &t.v6, true
	}
	i := f.find(fromAddr(a))
	return Leaf{V6: v6, Index: i, Class: f.class[i], Bits: f.bits[i]}
}

// Classes returns the location classes; a Leaf's Class indexes it. The
// caller must not modify it.
func (t *Table) Classes() []Class { return t.classes }

// Leaves is the number of leaves of a family.
func (t *Table) Leaves(v6 bool) int {
	if v6 {
		return len(t.v6.starts)
	}
	return len(t.v4.starts)
}

// Prefix returns the network of a leaf.
func (t *Table) Prefix(l Leaf) netip.Prefix {
	f := &t.v4
	if l.V6 {
		f = &t.v6
	}
	return netip.PrefixFrom(toAddr(f.starts[l.Index], f.width), int(f.bits[l.Index]))
}

// Scopes returns, per leaf of a family, the prefix length of the widest
// block around the leaf in which every leaf's class has the same key. key
// maps a class to whatever the caller's answer depends on; a key that is the
// same for every class gives scope 0 everywhere.
func (t *Table) Scopes(v6 bool, key func(class int32) int32) []uint8 {
	f := &t.v4
	if v6 {
		f = &t.v6
	}
	out := make([]uint8, len(f.starts))
	mergeBlocks(len(f.starts), f.width,
		func(i int) u128 { return f.starts[i] },
		func(i int) int { return int(f.bits[i]) },
		func(i int) int32 { return key(f.class[i]) },
		func(b block) {
			for i := b.first; i <= b.last; i++ {
				out[i] = b.bits
			}
		})
	return out
}

// ScopesByClass is Scopes with the key of each class given in a slice
// (key[class]): the same merge without a call per leaf, for the scope
// tables an update builds over millions of leaves.
func (t *Table) ScopesByClass(v6 bool, key []int32) []uint8 {
	f := &t.v4
	if v6 {
		f = &t.v6
	}
	out := make([]uint8, len(f.starts))
	width := f.width
	lowerHalf := func(b *block) bool { return b.start.andNot(hostMask(width-int(b.bits)+1)) == b.start }
	emit := func(b *block) {
		fill := out[b.first : b.last+1]
		for i := range fill {
			fill[i] = b.bits
		}
	}
	stack := make([]block, 0, width+2)
	starts, bits, class := f.starts, f.bits, f.class
	for i := range starts {
		cur := block{start: starts[i], bits: bits[i], key: key[class[i]], first: int32(i), last: int32(i)}
		for len(stack) > 0 {
			a := &stack[len(stack)-1]
			if a.bits != cur.bits || a.bits == 0 || a.key != cur.key || !lowerHalf(a) {
				break
			}
			cur = block{start: a.start, bits: a.bits - 1, key: a.key, first: a.first, last: cur.last}
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 {
			if a := &stack[len(stack)-1]; !lowerHalf(a) || cur.bits <= a.bits {
				for j := range stack {
					emit(&stack[j])
				}
				stack = stack[:0]
			}
		}
		stack = append(stack, cur)
	}
	for j := range stack {
		emit(&stack[j])
	}
	return out
}
