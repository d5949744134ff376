package dnsgslb

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// buildNice is the niceness a snapshot build runs at: the kernel then gives
// the serving threads the CPU first, and the build the rest. The thread is
// also put in SCHED_IDLE, which the scheduler preempts at once when a
// serving thread wakes, instead of letting it finish its time slice.
const buildNice = 19

// inBackground runs f on an OS thread of its own at buildNice and returns
// its result. The thread is never unlocked, so it ends with f and its
// niceness goes with it rather than to other goroutines.
func inBackground[T any](f func() T) T {
	out := make(chan T, 1)
	go func() {
		runtime.LockOSThread()
		_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), buildNice)
		_ = unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE, Nice: buildNice}, 0)
		out <- f()
	}()
	return <-out
}
