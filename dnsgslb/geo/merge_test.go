package geo

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// mergeAll is mergeBlocks as a plain stack that holds every block: the
// reference the streaming version must agree with.
func mergeAll(tiling []span, width int, key func(int) int32) []block {
	var stack []block
	for i, s := range tiling {
		stack = append(stack, block{start: s.start, bits: uint8(s.bits), key: key(i), first: int32(i), last: int32(i)})
		for len(stack) >= 2 {
			a, b := stack[len(stack)-2], stack[len(stack)-1]
			if a.bits != b.bits || a.bits == 0 || a.key != b.key {
				break
			}
			if a.start.andNot(hostMask(width-int(a.bits)+1)) != a.start {
				break
			}
			stack = stack[:len(stack)-2]
			stack = append(stack, block{start: a.start, bits: a.bits - 1, key: a.key, first: a.first, last: b.last})
		}
	}
	return stack
}

// TestMergeBlocksStreams checks mergeBlocks against mergeAll on random
// tilings of both families with few and many keys.
func TestMergeBlocksStreams(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		width := 32
		if round%2 == 1 {
			width = 128
		}
		var blocks []span
		for range rng.IntN(300) + 1 {
			bits := rng.IntN(width-1) + 1
			a := u128{rng.Uint64(), rng.Uint64()}.andNot(hostMask(width - bits))
			if width == 32 {
				a.hi, a.lo = 0, a.lo&0xffffffff&^(1<<uint(32-bits)-1)
			}
			blocks = append(blocks, span{start: a, bits: bits})
		}
		slices.SortFunc(blocks, func(x, y span) int {
			if x.start == y.start {
				return x.bits - y.bits
			}
			if x.start.less(y.start) {
				return -1
			}
			return 1
		})
		tiling := fill(blocks, width, 0)
		keys := int32(rng.IntN(4) + 1)
		key := func(i int) int32 { return int32(uint64(i)*2654435761>>7) % keys }
		if round%3 == 0 {
			key = func(int) int32 { return 1 }
		}
		want := mergeAll(tiling, width, key)
		var got []block
		mergeBlocks(len(tiling), width,
			func(i int) u128 { return tiling[i].start },
			func(i int) int { return tiling[i].bits },
			key,
			func(b block) { got = append(got, b) })
		if !slices.Equal(got, want) {
			t.Fatalf("round %d (width %d, %d leaves): streamed %d blocks, reference %d", round, width, len(tiling), len(got), len(want))
		}
	}
}
