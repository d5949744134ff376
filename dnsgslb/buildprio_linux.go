package dnsgslb

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// buildNice is the niceness a snapshot build runs at: the kernel then gives
// the serving threads the CPU first, and the build the rest. The thread is
// not put in SCHED_IDLE: a thread running Go code must reach a safe point
// before the garbage collector can stop the world, and an idle-class
// thread on a saturated machine may not run for long enough to stall
// every serving thread behind that stop. At niceness 19 it still gets a
// small share, so the stop waits a time slice at most.
const buildNice = 19

// inBackground runs f on an OS thread of its own at buildNice and returns
// its result. The thread is never unlocked, so it ends with f and its
// niceness goes with it rather than to other goroutines.
func inBackground[T any](f func() T) T {
	out := make(chan T, 1)
	go func() {
		runtime.LockOSThread()
		_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), buildNice)
		out <- f()
	}()
	return <-out
}
