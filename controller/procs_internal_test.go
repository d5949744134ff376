package controller

import (
	"testing"
	"time"
)

// TestProcsFollowTheLoad: the governor goes to one processor after
// procsRest under a quarter of a core on average, not before, and not
// while the average is above it however quiet single ticks are; on one
// processor a tick at half a core or more gives every processor back, and
// so does a change the caller knows of.
func TestProcsFollowTheLoad(t *testing.T) {
	var st procsState
	tick := func(share float64) (bool, bool) {
		return st.tick(time.Duration(share*float64(procsTick)), procsTick)
	}
	for i := range procsRestTicks - 1 {
		if _, move := tick(0.1); move {
			t.Fatalf("moved to one processor after %d quiet ticks, before procsRest", i+1)
		}
	}
	if one, move := tick(0.1); !one || !move {
		t.Fatalf("after procsRest at 10%% of a core: one %t, move %t; want one processor", one, move)
	}
	if _, move := tick(0.45); move {
		t.Fatal("on one processor, a tick at 45% of a core gave the processors back")
	}
	if one, move := tick(0.6); one || !move {
		t.Fatalf("on one processor, a tick at 60%% of a core: one %t, move %t; want every processor", one, move)
	}
	// Alternating 10% and 50%: quiet ticks, but 30% on average.
	for i := range 5 * procsRestTicks {
		share := 0.1
		if i%2 == 1 {
			share = 0.5
		}
		if _, move := tick(share); move {
			t.Fatalf("went to one processor at 30%% of a core on average (tick %d)", i)
		}
	}
	// The busy stretch ages out of the window: one processor within
	// procsRest of quiet, not at its first tick.
	if _, move := tick(0.05); move {
		t.Fatal("went to one processor at the first quiet tick after a busy stretch")
	}
	for range procsRestTicks - 1 {
		if one, move := tick(0.05); move && one {
			break
		}
	}
	if !st.one {
		t.Fatal("not on one processor after procsRest of quiet following a busy stretch")
	}
	st.busy()
	if st.one {
		t.Fatal("a change the caller knows of left one processor")
	}
	if _, move := tick(0); move {
		t.Fatal("one quiet tick after a change went to one processor")
	}
}
