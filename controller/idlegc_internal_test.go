package controller

import (
	"testing"
	"time"
)

// TestIdleCollectorCollectsAfterABurst: the idle collector collects once
// the controller has been quiet for two ticks with half its heap's
// headroom filled with garbage; not during a burst, not with little
// garbage, not for a small heap, and not twice within idleGCEvery.
func TestIdleCollectorCollectsAfterABurst(t *testing.T) {
	const mb = 1 << 20
	t0 := time.Unix(1_700_000_000, 0)
	var st *idleGCState
	tick := 0
	next := func(allocated, goal, live, objects uint64) bool {
		tick++
		h := heapSample{allocs: st.prev.allocs + allocated, goal: goal, live: live, objects: objects}
		return st.collect(h, t0.Add(time.Duration(tick)*time.Second))
	}
	st = &idleGCState{}
	// A burst: 100 MB a tick, garbage piling up.
	for i := range 5 {
		if next(100*mb, 800*mb, 400*mb, 400*mb+uint64(i+1)*70*mb) {
			t.Fatalf("collected during a burst, tick %d", tick)
		}
	}
	// At rest (1 MB a tick): one quiet tick is not a rest.
	if next(1*mb, 800*mb, 400*mb, 760*mb) {
		t.Fatal("collected after one quiet tick")
	}
	if !next(1*mb, 800*mb, 400*mb, 760*mb) {
		t.Fatal("did not collect after two quiet ticks with 90% of the headroom garbage")
	}
	// After the collection the heap is small again; garbage grows slowly.
	for range 20 {
		if next(1*mb, 800*mb, 400*mb, 450*mb) {
			t.Fatalf("collected with an eighth of the headroom garbage, tick %d", tick)
		}
	}
	// Within idleGCEvery of a collection, none.
	st = &idleGCState{last: t0.Add(time.Duration(tick+1) * time.Second)}
	for range 3 {
		if next(1*mb, 800*mb, 400*mb, 790*mb) {
			t.Fatalf("collected again within %s", idleGCEvery)
		}
	}
	// A small heap is left to the runtime.
	st = &idleGCState{}
	for range 5 {
		if next(0, 32*mb, 8*mb, 30*mb) {
			t.Fatal("collected a 32 MB heap")
		}
	}
}
