package dnsgslb

import (
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// buildNice is the niceness a snapshot build runs at: the kernel then gives
// the serving threads the CPU first, and the build the rest (a worker
// woken on the build's CPU preempts it because of its shorter slice,
// servingThread, if at all, not because of the niceness). The thread is
// not put in SCHED_IDLE: a thread running Go code must reach a safe point
// before the garbage collector can stop the world, and an idle-class
// thread on a saturated machine may not run for long enough to stall
// every serving thread behind that stop. At niceness 19 it still gets a
// small share, so the stop waits a time slice at most.
const buildNice = 19

// InBackground runs f on an OS thread of its own at buildNice and returns
// its result: for work that would otherwise compete with the serving
// workers for a CPU, such as a snapshot build or decoding a snapshot from
// the controller. The thread is never unlocked, so it ends with f and its
// niceness goes with it rather than to other goroutines.
func InBackground[T any](f func() T) T {
	out := make(chan T, 1)
	go func() {
		runtime.LockOSThread()
		_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), buildNice)
		start := threadCPU()
		v := f()
		backgroundCPU.Add(int64(threadCPU() - start))
		out <- v
	}()
	return <-out
}

// backgroundCPU sums the CPU time of the functions InBackground ran.
var backgroundCPU atomic.Int64

// BackgroundCPU is the CPU time the functions run by InBackground took, in
// all (builds, decoding snapshots, persisting them): the threads' own
// time, which other processes on the machine do not inflate as they do
// the process's.
func BackgroundCPU() time.Duration { return time.Duration(backgroundCPU.Load()) }

// threadCPU is the calling thread's CPU time.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// servingSliceNanos is the time slice a serving thread asks the kernel for
// (sched_setattr's sched_runtime, honoured by the EEVDF scheduler of Linux
// 6.12 and later; the minimum is 0.1 ms).
const servingSliceNanos = 100_000

// servingThread asks the kernel to run the calling thread, which must be
// locked to its goroutine, with a short time slice: a datagram arriving
// for a worker then preempts whatever else (a build, the garbage
// collector, another process) runs on its CPU with a longer slice, when
// the kernel finds the worker eligible, where it could otherwise wait
// for the other's slice to run out, up to a scheduler tick (4 ms at
// HZ=250). The thread keeps its niceness and its
// share of the CPU. Kernels without EEVDF ignore the slice; an error
// (seccomp, an old kernel) leaves the thread as it was. Call the function
// returned, on the same thread, to give it its default slice back before
// unlocking it.
func servingThread() (restore func()) {
	cur, err := unix.SchedGetAttr(0, 0)
	if err != nil || cur.Policy != unix.SCHED_NORMAL {
		return func() {}
	}
	attr := unix.SchedAttr{Policy: unix.SCHED_NORMAL, Nice: cur.Nice, Runtime: servingSliceNanos}
	if unix.SchedSetAttr(0, &attr, 0) != nil {
		return func() {}
	}
	return func() {
		attr.Runtime = 0 // the default
		_ = unix.SchedSetAttr(0, &attr, 0)
	}
}
