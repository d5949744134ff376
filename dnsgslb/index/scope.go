package index

import "encoding/binary"

// maxScopeCells bounds the memory of per-leaf scope tables; past it a
// record's scope is its leaf's prefix length, which is correct but narrower.
const maxScopeCells = 1 << 26

// maxScopeCellsPerBuild bounds the scope tables one build computes (about
// 0.1 s of CPU per million cells): past it, the records whose scopes would
// need a new table get their leaves' own scopes until a later build.
var maxScopeCellsPerBuild = 1 << 23

// SetScopeBudget sets maxScopeCellsPerBuild and returns the one it
// replaces. It is for tests, and must not be called while an index is
// compiled.
func SetScopeBudget(n int) int {
	old := maxScopeCellsPerBuild
	maxScopeCellsPerBuild = n
	return old
}

// mayBuildScopes reports whether the build may compute a scope table of
// cells more, and marks the index unfinished (Index.Unfinished) when only
// this build's budget stands in the way: a later build can add it.
func (b *builder) mayBuildScopes(cells int) bool {
	switch {
	case b.quick || b.ix.scopeCells+cells > maxScopeCells:
		return false
	case b.scopeCellsBuilt+cells > maxScopeCellsPerBuild:
		b.ix.unfinished = b.ix.unfinished || cells <= maxScopeCellsPerBuild
		return false
	}
	return true
}

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
	if !b.mayBuildScopes(cells) {
		return s
	}
	ix.scopeCells += cells
	b.scopeCellsBuilt += cells
	ck := b.classKeys(func(c int32) int32 { return group[p.rc(c)] })
	for f, v6 := range []bool{false, true} {
		s[f] = ix.table.ScopesByClass(v6, ck)
	}
	p.scopes[key] = s
	return s
}

// placeScopesFor is scopesFor for a record whose ranking follows only the
// residency rule that applies (see rankRange): every class of one place
// (continent and country) answers alike, so the table depends only on
// which places answer alike. It is shared by every such record that
// groups the places the same way, and kept across builds with the same
// prefix table: records with the same rules over different origins, or
// whose origins' health flaps, need no table of their own.
func (b *builder) placeScopesFor(p *profile, group []int32) (key string, scopes [2][]uint8) {
	pl := b.places()
	relabel := map[int32]int32{}
	label := make([]int32, len(pl.first))
	canon := make([]byte, 0, 4*len(pl.first))
	for i, ci := range pl.first {
		g := group[p.rc(int32(ci))]
		r, ok := relabel[g]
		if !ok {
			r = int32(len(relabel))
			relabel[g] = r
		}
		label[i] = r
		canon = binary.LittleEndian.AppendUint32(canon, uint32(r))
	}
	key = string(canon)
	if s, ok := b.keepPlaceScopes(key, b.prevPlaceScopes[key]); ok {
		return key, s
	}
	ix := b.ix
	cells := ix.table.Leaves(false) + ix.table.Leaves(true)
	if !b.mayBuildScopes(cells) {
		return key, scopes
	}
	b.scopeCellsBuilt += cells
	ck := b.classKeys(func(c int32) int32 { return label[pl.of[c]] })
	for f, v6 := range []bool{false, true} {
		scopes[f] = ix.table.ScopesByClass(v6, ck)
	}
	b.keepPlaceScopes(key, scopes)
	return key, scopes
}

// keepPlaceScopes puts place scope tables s (nil when there are none yet)
// in the index under key, counted once, and returns the tables the index
// holds under key.
func (b *builder) keepPlaceScopes(key string, s [2][]uint8) ([2][]uint8, bool) {
	ix := b.ix
	if kept, ok := ix.placeScopes[key]; ok {
		return kept, true
	}
	if s[0] == nil {
		return s, false
	}
	ix.scopeCells += ix.table.Leaves(false) + ix.table.Leaves(true)
	ix.placeScopes[key] = s
	return s, true
}

// classKeys is key of every class of the table, in the builder's
// scratch slice (valid until the next call).
func (b *builder) classKeys(key func(c int32) int32) []int32 {
	n := len(b.ix.table.Classes())
	if cap(b.classKey) < n {
		b.classKey = make([]int32, n)
	}
	k := b.classKey[:n]
	for c := range k {
		k[c] = key(int32(c))
	}
	return k
}
