package index

// maxScopeCells bounds the memory of per-leaf scope tables; past it a
// record's scope is its leaf's prefix length, which is correct but narrower.
const maxScopeCells = 1 << 26

// scopesFor returns the per-leaf scopes of a grouping of location classes,
// shared by every record that groups the classes the same way. Past
// maxScopeCells it returns nil tables: scopes are then the leaves' own.
func (ix *Index) scopesFor(group func(class int32) int32) [2][]uint8 {
	// Relabel groups by first appearance so that equal partitions of the
	// classes have equal keys.
	relabel := map[int32]int32{}
	canon := make([]byte, 0, 4*len(ix.clients))
	for c := range ix.clients {
		g := group(int32(c))
		r, ok := relabel[g]
		if !ok {
			r = int32(len(relabel))
			relabel[g] = r
		}
		canon = append(canon, byte(r), byte(r>>8), byte(r>>16), byte(r>>24))
	}
	key := string(canon)
	if s, ok := ix.scopeCache[key]; ok {
		return s
	}
	var s [2][]uint8
	cells := ix.table.Leaves(false) + ix.table.Leaves(true)
	if ix.scopeCells+cells > maxScopeCells {
		return s
	}
	ix.scopeCells += cells
	for f, v6 := range []bool{false, true} {
		s[f] = ix.table.Scopes(v6, group)
	}
	ix.scopeCache[key] = s
	return s
}
