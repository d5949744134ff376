package controller

import "testing"

// TestIdleCollectorCollectsOnceAfterABurst: the idle collector collects
// when the controller has been quiet for two ticks after a burst that
// left a quarter of the heap's headroom or more garbage, once; not during
// the burst, not after one that left little garbage, not at rest without
// a burst, and not for a small heap.
func TestIdleCollectorCollectsOnceAfterABurst(t *testing.T) {
	const mb = 1 << 20
	st := &idleGCState{}
	tick := func(allocated, goal, live, objects uint64) bool {
		return st.collect(heapSample{allocs: st.prev.allocs + allocated, goal: goal, live: live, objects: objects})
	}
	// At rest, 1 MB a tick, garbage piling up slowly: no burst, no
	// collection however much garbage (the runtime's own pacing).
	for range 30 {
		if tick(1*mb, 800*mb, 400*mb, 700*mb) {
			t.Fatal("collected at rest without a burst")
		}
	}
	// A burst: 100 MB a tick.
	for i := range 3 {
		if tick(100*mb, 800*mb, 400*mb, 400*mb+uint64(i+1)*80*mb) {
			t.Fatal("collected during a burst")
		}
	}
	// One quiet tick is not a rest; the second is, once.
	if tick(1*mb, 800*mb, 400*mb, 640*mb) {
		t.Fatal("collected after one quiet tick")
	}
	if !tick(1*mb, 800*mb, 400*mb, 640*mb) {
		t.Fatal("did not collect at the rest after a burst that left 60% of the headroom garbage")
	}
	for range 10 {
		if tick(1*mb, 800*mb, 400*mb, 640*mb) {
			t.Fatal("collected twice after one burst")
		}
	}
	// A burst the runtime collected during: little garbage left.
	for range 3 {
		tick(100*mb, 800*mb, 400*mb, 450*mb)
	}
	for range 5 {
		if tick(1*mb, 800*mb, 400*mb, 450*mb) {
			t.Fatal("collected after a burst that left an eighth of the headroom garbage")
		}
	}
	// A small heap is left to the runtime.
	for range 3 {
		tick(20*mb, 32*mb, 8*mb, 30*mb)
	}
	for range 5 {
		if tick(0, 32*mb, 8*mb, 30*mb) {
			t.Fatal("collected a 32 MB heap")
		}
	}
}
