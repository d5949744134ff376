package index

import "encoding/binary"

// maxScopeCells bounds the memory of per-leaf scope tables; past it a
// record's scope is its leaf's prefix length, which is correct but narrower.
const maxScopeCells = 1 << 26

// maxScopeCellsPerBuild bounds the scope tables one build computes (about
// 0.1 s of CPU per million cells): past it, the records whose scopes would
// need a new table get their leaves' own scopes until a later build.
const maxScopeCellsPerBuild = 1 << 23

// countScopes counts the scope tables profile p keeps in the index's
// scopeCells, once.
func (b *builder) countScopes(p *profile) {
	if !b.counted[p] {
		b.counted[p] = true
		b.ix.scopeCells += (b.ix.table.Leaves(false) + b.ix.table.Leaves(true)) * len(p.scopes)
	}
}

// scopesFor returns the per-leaf scopes of a record whose record classes
// (of profile p) fall in the given groups, shared by every record of the
// profile that groups them the same way. Past maxScopeCells it returns nil
// tables: scopes are then the leaves' own.
func (b *builder) scopesFor(p *profile, group []int32) [2][]uint8 {
	// Relabel groups by first appearance so that equal partitions of the
	// record classes have equal keys.
	relabel := map[int32]int32{}
	canon := make([]byte, 0, 4*len(group))
	for _, g := range group {
		r, ok := relabel[g]
		if !ok {
			r = int32(len(relabel))
			relabel[g] = r
		}
		canon = binary.LittleEndian.AppendUint32(canon, uint32(r))
	}
	key := string(canon)
	ix := b.ix
	cells := ix.table.Leaves(false) + ix.table.Leaves(true)
	if s, ok := p.scopes[key]; ok {
		b.countScopes(p)
		return s
	}
	var s [2][]uint8
	if b.quick || ix.scopeCells+cells > maxScopeCells || b.scopeCellsBuilt+cells > maxScopeCellsPerBuild {
		return s
	}
	ix.scopeCells += cells
	b.scopeCellsBuilt += cells
	for f, v6 := range []bool{false, true} {
		s[f] = ix.table.Scopes(v6, func(c int32) int32 { return group[p.rc(c)] })
	}
	p.scopes[key] = s
	return s
}
