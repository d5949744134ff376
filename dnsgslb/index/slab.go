package index

// slabBlock is how many objects a slab allocates at a time.
const slabBlock = 1024

// slab hands out objects of one type from blocks allocated slabBlock at a
// time: a build makes thousands of records, nodes and their RRset lists,
// which live and die with the index, and one allocation per block costs
// less than one per object.
type slab[T any] struct{ free []T }

// get returns a zero T from the current block.
func (s *slab[T]) get() *T {
	if len(s.free) == 0 {
		s.free = make([]T, slabBlock)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}

// one returns an empty slice with room for one T, from the current
// block.
func (s *slab[T]) one() []T {
	if len(s.free) == 0 {
		s.free = make([]T, slabBlock)
	}
	out := s.free[:0:1]
	s.free = s.free[1:]
	return out
}

// buildAlloc holds a build's slabs; an index drops it once compiled.
type buildAlloc struct {
	records slab[record]
	nodes   slab[node]
	rrsets  slab[rrset]
}

// addRRset appends rs to n's RRsets, the first from the build's slab.
func (ix *Index) addRRset(n *node, rs rrset) {
	if n.rrsets == nil && ix.alloc != nil {
		n.rrsets = ix.alloc.rrsets.one()
	}
	n.rrsets = append(n.rrsets, rs)
}
