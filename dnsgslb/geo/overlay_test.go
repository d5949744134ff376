package geo

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestOverlayLayerAgreesWithOverlay lays random PoP networks over a random
// tiling both ways: one network at a time (overlay), and as one layer in a
// single pass (overlayLayer, what Build does). The tilings are the same.
func TestOverlayLayerAgreesWithOverlay(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var blocks []span
		for a := uint64(0); a < 1<<16; a += uint64(1) << r.IntN(10) {
			bits := 32 - r.IntN(5)
			blocks = append(blocks, span{start: u128{lo: a << 8}, bits: bits, class: int32(r.IntN(5))})
		}
		blocks = slices.CompactFunc(blocks, func(a, b span) bool { return !a.end(32).less(b.start) })
		base := fill(blocks, 32, 99)
		var pops []span
		for range r.IntN(6) {
			bits := 8 + r.IntN(25)
			start := u128{lo: uint64(r.Uint32())}.andNot(hostMask(32 - bits))
			pops = append(pops, span{start: start, bits: bits, class: int32(100 + r.IntN(3))})
		}
		slices.SortStableFunc(pops, func(a, b span) int { return a.bits - b.bits })
		want := slices.Clone(base)
		layer := []span{{class: noClass}}
		for _, p := range pops {
			want = overlay(want, p, 32)
			layer = overlay(layer, p, 32)
		}
		got := overlayLayer(base, layer, 32)
		if !slices.Equal(mergeClasses(got, 32), mergeClasses(want, 32)) {
			t.Fatalf("round %d: overlayLayer gives %d blocks, overlay one by one %d, and they differ", round, len(got), len(want))
		}
	}
}
