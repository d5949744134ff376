package controller

import (
	"context"
	"os"
	"runtime"
	"time"
)

// The processor governor runs the controller on one processor while it is
// at rest and on the runtime's default number while it works.
//
// At rest a controller with thousands of agents receives a few hundred
// small reports a second and does microseconds of its own work for each.
// With two or more processors the Go runtime wakes an idle one for nearly
// every report, which spins looking for work and sleeps again, and its
// monitor thread keeps polling; on a virtual machine every such wake-up is
// a trap to the hypervisor. A profile of a controller with 3,000 agents at
// rest put the scheduler's search for work at a third of its CPU and the
// monitor at a quarter, more than the reports. With one processor there
// is nothing to wake: the report's goroutine runs where it was readied.
//
// A change of the desired state gives back every processor before its
// fan-out to the agents starts; any other burst (agents connecting, the
// reports after a change, a surge of health changes) within a tick.
const (
	// procsTick is how often the process's CPU time is read.
	procsTick = 100 * time.Millisecond
	// procsBusy is the share of a core a tick on one processor must use
	// for the processors to be given back at once.
	procsBusy = 0.5
	// procsRest is how long the process must use less than procsRestShare
	// of a core, on average, before it goes to one processor.
	procsRest = 3 * time.Second
	// procsRestShare is that share.
	procsRestShare = 0.25
)

// procsRestTicks is procsRest in ticks.
const procsRestTicks = int(procsRest / procsTick)

// procsState is the governor's memory between ticks: the CPU time of the
// last procsRestTicks ticks on every processor.
type procsState struct {
	// one is set while the process runs on one processor.
	one bool
	// used holds the ticks' CPU time and lengths, n of them so far, the
	// next at next; sum and span are their totals.
	used, span [procsRestTicks]time.Duration
	n, next    int
	sum, total time.Duration
}

// tick takes the CPU time used over one tick of length d and reports
// whether to run on one processor; move is false when that does not
// change.
func (st *procsState) tick(used, d time.Duration) (one, move bool) {
	if st.one {
		if used >= time.Duration(procsBusy*float64(d)) {
			st.busy()
			return false, true
		}
		return true, false
	}
	if st.n == procsRestTicks {
		st.sum -= st.used[st.next]
		st.total -= st.span[st.next]
	} else {
		st.n++
	}
	st.used[st.next], st.span[st.next] = used, d
	st.sum += used
	st.total += d
	st.next = (st.next + 1) % procsRestTicks
	if st.n < procsRestTicks || st.sum >= time.Duration(procsRestShare*float64(st.total)) {
		return false, false
	}
	st.one = true
	return true, true
}

// busy records work the caller knows of: every processor, and the rest
// starts again.
func (st *procsState) busy() {
	*st = procsState{}
}

// governProcs runs the governor until ctx ends, then gives back the
// runtime's default. changes returns a channel closed at the next change
// of the desired state. procs is told the processors in use after each
// move. It does nothing where GOMAXPROCS is set in the environment (the
// operator's word), where the default is one processor already, or where
// the process's CPU time cannot be read.
func governProcs(ctx context.Context, changes func() <-chan struct{}, procs func(n int)) {
	procs(runtime.GOMAXPROCS(0))
	if os.Getenv("GOMAXPROCS") != "" || runtime.GOMAXPROCS(0) < 2 {
		return
	}
	last, ok := processCPU()
	if !ok {
		return
	}
	var st procsState
	set := func(one bool) {
		if one {
			runtime.GOMAXPROCS(1)
		} else {
			runtime.SetDefaultGOMAXPROCS()
		}
		procs(runtime.GOMAXPROCS(0))
	}
	defer func() {
		if st.one {
			set(false)
		}
	}()
	t := time.NewTicker(procsTick)
	defer t.Stop()
	changed := changes()
	prev := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
			changed = changes()
			if st.one {
				set(false)
			}
			st.busy()
		case now := <-t.C:
			cpu, _ := processCPU()
			one, move := st.tick(cpu-last, now.Sub(prev))
			last, prev = cpu, now
			if move {
				set(one)
			}
		}
	}
}
