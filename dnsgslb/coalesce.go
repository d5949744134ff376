package dnsgslb

import "time"

// A busy UDP worker coalesces: after answering a batch it waits a short
// time (Config.UDPCoalesce) before reading again, so that the next read
// takes several datagrams at once. Every read costs a system call, and
// each one that found the socket empty a sleep and a wake-up, whatever
// the number of datagrams it returns; at tens of thousands of queries a
// second these are most of a worker's CPU (bench/README.md, "Busy workers
// coalesce"). Waiting adds at most the wait to a query's latency, so a
// worker does it only while it is busy: its thread used at least
// coalesceBusy of the last window's time, and datagrams came fast enough
// for the wait to gather two or more. It stops when either falls to half
// (a rate of one datagram a wait), so that the CPU that coalescing saves
// does not end it at once, or when a read finds the socket empty for a
// whole receive timeout (idle). A lightly loaded worker answers each
// datagram as it comes.
const (
	// DefaultUDPCoalesce is Config.UDPCoalesce's default, MaxUDPCoalesce
	// its largest value.
	DefaultUDPCoalesce = 50 * time.Microsecond
	MaxUDPCoalesce     = time.Millisecond

	coalesceWindow = 2 * time.Millisecond
	coalesceBusy   = 0.40
)

// monoStart is where monotonic counts from.
var monoStart = time.Now()

// monotonic is the time since monoStart, read through the vDSO.
func monotonic() time.Duration { return time.Since(monoStart) }

// coalescer is one worker's decision to wait between batches; it is used
// by that worker's thread only.
type coalescer struct {
	wait    time.Duration // 0: never
	full    int           // the most datagrams a read returns
	busy    float64       // the share of CPU that starts coalescing
	on      bool
	start   time.Duration // the window's start, monotonic
	cpu0    time.Duration // the thread's CPU time at the start
	arrived int           // datagrams read in the window
}

// newCoalescer waits wait between batches when busy; wait ≤ 0 never.
// full is the most datagrams one of the worker's reads returns.
func newCoalescer(wait time.Duration, full int) coalescer {
	return coalescer{wait: max(wait, 0), full: full, busy: coalesceBusy}
}

// after is called with the datagrams a read returned (0 for none) and the
// monotonic time; cpu reads the thread's CPU time, once a window. It
// says whether to wait before the next read: never after an empty read or
// a full batch (more are queued already).
func (c *coalescer) after(got int, now time.Duration, cpu func() time.Duration) bool {
	if c.wait == 0 {
		return false
	}
	c.arrived += got
	if d := now - c.start; d >= coalesceWindow {
		t := cpu()
		if c.start != 0 {
			share := float64(t-c.cpu0) / float64(d)
			gathered := float64(c.arrived) * float64(c.wait) / float64(d) // datagrams a wait gathers
			if c.on {
				c.on = share >= c.busy/2 && gathered >= 1
			} else {
				c.on = share >= c.busy && gathered >= 2
			}
		}
		c.start, c.cpu0, c.arrived = now, t, 0
	}
	return c.on && got > 0 && got < c.full
}

// idle is called when a read found the socket empty for a whole receive
// timeout: no datagram for longer than many waits, so the worker is not
// busy, and it may now wait for the next datagram for as long as it takes,
// with no read to end the window. The next window starts at the next
// call of after.
func (c *coalescer) idle() { c.on, c.start, c.arrived = false, 0, 0 }
