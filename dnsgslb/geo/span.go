package geo

// span is one CIDR block of a family's address space that names a class.
type span struct {
	start u128
	bits  int
	class int32
}

// end is the last address of the block in a family of the given width.
func (s span) end(width int) u128 { return s.start.or(hostMask(width - s.bits)) }

// decompose appends the CIDR blocks covering [a, b] exactly, in order.
func decompose(out []span, a, b u128, width int, class int32) []span {
	eachBlock(a, b, width, func(start u128, bits int) {
		out = append(out, span{start: start, bits: bits, class: class})
	})
	return out
}

// eachBlock calls f with each CIDR block covering [a, b] exactly, in order.
func eachBlock(a, b u128, width int, f func(start u128, bits int)) {
	top := hostMask(width)
	for !b.less(a) {
		k := min(a.trailingZeros(), width)
		for k > 0 && b.less(a.or(hostMask(k))) {
			k--
		}
		f(a, width-k)
		last := a.or(hostMask(k))
		if last == top {
			break
		}
		a = last.add1()
	}
}

// fill turns sorted, disjoint blocks into a tiling of the whole family,
// giving the gaps to class fill. A first pass counts the tiling's blocks,
// so that the second writes them into a slice of their size: a
// City-sized database tiles into millions.
func fill(blocks []span, width int, fillClass int32) []span {
	n := 0
	tileGaps(blocks, width, func(a, b u128) {
		eachBlock(a, b, width, func(u128, int) { n++ })
	}, func(span) { n++ })
	out := make([]span, 0, n)
	tileGaps(blocks, width, func(a, b u128) {
		out = decompose(out, a, b, width, fillClass)
	}, func(s span) { out = append(out, s) })
	return out
}

// tileGaps walks sorted, disjoint blocks in order, calling gap with each
// stretch [a, b] of the family they leave uncovered and block with each
// block.
func tileGaps(blocks []span, width int, gap func(a, b u128), block func(span)) {
	next := u128{}
	for _, s := range blocks {
		if s.start.less(next) {
			continue // overlaps the previous block; the database never does this
		}
		if next.less(s.start) {
			gap(next, s.start.sub1())
		}
		block(s)
		e := s.end(width)
		if e == hostMask(width) {
			return
		}
		next = e.add1()
	}
	gap(next, hostMask(width))
}

// locate returns the index of the block of a tiling that holds a.
func locate(tiling []span, a u128) int {
	lo, hi := 0, len(tiling)
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if a.less(tiling[m].start) {
			hi = m
		} else {
			lo = m
		}
	}
	return lo
}

// overlay gives the block p its class inside a tiling, splitting or
// replacing the blocks it overlaps. The result is still a tiling.
func overlay(tiling []span, p span, width int) []span {
	pend := p.end(width)
	i := locate(tiling, p.start)
	j := locate(tiling, pend)
	out := make([]span, 0, len(tiling)+2*width)
	out = append(out, tiling[:i]...)
	if tiling[i].start.less(p.start) {
		out = decompose(out, tiling[i].start, p.start.sub1(), width, tiling[i].class)
	}
	out = append(out, p)
	if jend := tiling[j].end(width); pend.less(jend) {
		out = decompose(out, pend.add1(), jend, width, tiling[j].class)
	}
	return append(out, tiling[j+1:]...)
}

// block is a run of tiling leaves [first, last] that together form one CIDR
// block with the same key.
type block struct {
	start       u128
	key         int32
	first, last int32
	bits        uint8
}

// mergeBlocks merges sibling leaves with the same key into their parent,
// repeatedly, and calls emit with each maximal block, in address order.
// Leaf i starts at start(i), has bits(i) prefix bits and key key(i).
//
// Only blocks that may still merge are held: lower halves waiting for
// their sibling, each smaller than the one below it, so at most width+1
// of them. Once a block cannot merge with the leaf after it, no block
// held can grow any more, and all are emitted.
func mergeBlocks(n, width int, start func(i int) u128, bits func(i int) int, key func(i int) int32, emit func(block)) {
	stack := make([]block, 0, width+2)
	lowerHalf := func(b block) bool { return b.start.andNot(hostMask(width-int(b.bits)+1)) == b.start }
	for i := range n {
		cur := block{start: start(i), bits: uint8(bits(i)), key: key(i), first: int32(i), last: int32(i)}
		for len(stack) > 0 {
			a := stack[len(stack)-1]
			if a.bits != cur.bits || a.bits == 0 || a.key != cur.key || !lowerHalf(a) {
				break
			}
			stack = stack[:len(stack)-1]
			cur = block{start: a.start, bits: a.bits - 1, key: a.key, first: a.first, last: cur.last}
		}
		if len(stack) > 0 {
			if a := stack[len(stack)-1]; !lowerHalf(a) || cur.bits <= a.bits {
				for _, b := range stack {
					emit(b)
				}
				stack = stack[:0]
			}
		}
		stack = append(stack, cur)
	}
	for _, b := range stack {
		emit(b)
	}
}
