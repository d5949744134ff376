package controller

import (
	"context"
	"runtime"
	rtmetrics "runtime/metrics"
	"time"
)

// The idle collector runs a garbage collection when the controller has
// gone quiet after a burst (agents connecting, the reports after a
// change) that left much garbage. Otherwise the collector takes that
// garbage in the middle of the next burst, with its mark assists charged
// to the very goroutines sending a change to every agent: at 10,000
// agents a collection costs about a second of CPU, and the first change
// after a rest paid for the connect surge's. It collects once per burst,
// on the idle processor, and never at rest otherwise, where the runtime's
// own pacing (and its collection every two minutes) is left alone.
const (
	// idleGCTick is how often the heap is looked at.
	idleGCTick = time.Second
	// idleGCMinGoal is the smallest heap goal worth it: below it a
	// collection in a burst is short.
	idleGCMinGoal = 64 << 20
	// idleGCQuiet: a tick that allocated less than this share of the heap
	// goal is quiet; two in a row are a rest.
	idleGCQuiet = 0.01
	// idleGCBurst: the ticks since the last rest that allocated at least
	// this share of the heap goal in all were a burst.
	idleGCBurst = 0.1
	// idleGCUsed is the share of the headroom (goal less the live heap)
	// garbage must fill for a collection at rest.
	idleGCUsed = 0.25
)

// heapSample is what the idle collector reads of the heap.
type heapSample struct {
	// allocs is the bytes allocated since the process started; goal is
	// the heap size the next collection aims at; live is the heap the
	// last collection found live; objects is the heap now, garbage
	// included.
	allocs, goal, live, objects uint64
}

var heapMetrics = []string{"/gc/heap/allocs:bytes", "/gc/heap/goal:bytes", "/gc/heap/live:bytes", "/memory/classes/heap/objects:bytes"}

func readHeap(s []rtmetrics.Sample) heapSample {
	rtmetrics.Read(s)
	return heapSample{allocs: s[0].Value.Uint64(), goal: s[1].Value.Uint64(), live: s[2].Value.Uint64(), objects: s[3].Value.Uint64()}
}

// idleGCState is the idle collector's memory between ticks.
type idleGCState struct {
	prev heapSample
	// quiet counts the quiet ticks in a row; burst is what the ticks
	// since the last rest allocated.
	quiet int
	burst uint64
}

// collect reports whether to collect now, given the heap.
func (st *idleGCState) collect(h heapSample) bool {
	allocated := h.allocs - st.prev.allocs
	st.prev = h
	if float64(allocated) >= idleGCQuiet*float64(h.goal) {
		st.quiet = 0
		st.burst += allocated
		return false
	}
	st.quiet++
	if st.quiet < 2 {
		return false
	}
	burst := st.burst
	st.burst = 0
	if float64(burst) < idleGCBurst*float64(h.goal) || h.goal < idleGCMinGoal || h.goal <= h.live {
		return false
	}
	garbage := float64(h.objects) - float64(h.live)
	return garbage >= idleGCUsed*float64(h.goal-h.live)
}

// collectWhenIdle runs the idle collector until ctx ends; collections
// counts what it collected.
func collectWhenIdle(ctx context.Context, collections func()) {
	s := make([]rtmetrics.Sample, len(heapMetrics))
	for i, name := range heapMetrics {
		s[i].Name = name
	}
	st := &idleGCState{prev: readHeap(s)}
	t := time.NewTicker(idleGCTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if st.collect(readHeap(s)) {
				runtime.GC()
				collections()
			}
		}
	}
}
