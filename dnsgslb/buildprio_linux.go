package dnsgslb

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// buildNice is the niceness a snapshot build runs at when the machine is
// busy (see idleClass): the kernel then gives the serving threads most of
// the CPU and the build a tenth of a contended CPU (a worker woken on the
// build's CPU preempts it because of its shorter slice, servingThread,
// not because of the niceness). That share bounds how long an update
// takes on a saturated machine, where a health change must still reach
// the answers: at niceness 19 (about 1.5%) the load test next to two
// busy loops took 8 s from Update to a new answer and 2 min 51 s to a
// first answer after a start; at 10, 1.05 s and 28 s, with the same
// query p99 (bench/README.md, "Builds in the idle class"). It also bounds
// how long a garbage collection's stop-the-world waits for the build's
// thread to reach a safe point.
const buildNice = 10

// InBackground runs f on an OS thread of its own at the lowest priority the
// machine's load allows and returns its result: for work that would
// otherwise compete with the serving workers for a CPU, such as a snapshot
// build or decoding a snapshot from the controller. With CPU to spare
// (idleClass) the thread is in SCHED_IDLE: the kernel counts a CPU that
// runs only it as idle, so a serving worker woken while the build runs is
// placed there and runs at once, where at a niceness it would be queued
// on its own CPU behind whatever holds that one (another process, a kernel
// thread that cannot be preempted). On a busy machine it is at buildNice
// in the normal class. The thread is never unlocked, so it ends with f
// and its priority goes with it rather than to other goroutines.
func InBackground[T any](f func() T) T { return inBackground(f, idleClass()) }

// InBackgroundWaiting is InBackground for work that may wait a long time
// before its CPU work starts, such as the feed's receive, which also
// decodes: it always runs at buildNice in the normal class. The class is
// chosen when the thread starts, the machine may be flooded by the time
// the work runs, and a thread in SCHED_IDLE cannot be moved back to the
// normal class without privilege (RLIMIT_NICE, CAP_SYS_NICE).
func InBackgroundWaiting[T any](f func() T) T { return inBackground(f, false) }

func inBackground[T any](f func() T, idle bool) T {
	out := make(chan T, 1)
	go func() {
		runtime.LockOSThread()
		_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), buildNice)
		unwatch := func() {}
		if idle && unix.SchedSetAttr(0, &unix.SchedAttr{Policy: unix.SCHED_IDLE, Nice: buildNice}, 0) == nil {
			backgroundIdle.Add(1)
			unwatch = watchStarving()
		}
		backgroundRuns.Add(1)
		start := threadCPU()
		v := f()
		backgroundCPU.Add(int64(threadCPU() - start))
		unwatch()
		out <- v
	}()
	return <-out
}

// spareShare is the share of the machine's CPU time that must have been
// idle lately for background work to run in SCHED_IDLE: a thread in that
// class runs only on time nothing else wants, and on a machine without
// any (a flood of queries on every CPU) it would not run at all, holding
// up its update and every stop-the-world of the garbage collector.
const spareShare = 0.25

// idleWindow is how long idleClass measures the machine's idle time when
// it has no recent measurement to go on.
const idleWindow = 50 * time.Millisecond

// idleDecision is idleClass's last answer, kept a second: the decode,
// build and persisting of one update ask together.
var idleDecision struct {
	sync.Mutex
	at    time.Time
	last  cpuSample
	spare bool
}

// noIdleClass keeps background work out of SCHED_IDLE. The package's
// tests set it: they run beside other packages' tests that saturate the
// machine for minutes, and a thread in SCHED_IDLE, given a share of about
// 0.3% of a CPU beside each busy thread, can take longer than any bound a
// test waits for a build (see InBackgroundWaiting for the same limit).
var noIdleClass atomic.Bool

// idleClass says whether background work may run in SCHED_IDLE: whether
// a thread starved there can be moved out (CanRescueIdle), and at least
// spareShare of the machine's CPU time was idle since the last
// measurement, if that is between 100 ms and 10 s old, or else over
// idleWindow now.
func idleClass() bool {
	if noIdleClass.Load() || !CanRescueIdle() {
		return false
	}
	d := &idleDecision
	d.Lock()
	defer d.Unlock()
	if !d.at.IsZero() && time.Since(d.at) < time.Second {
		return d.spare
	}
	now, ok := readCPUSample()
	if !ok {
		return false
	}
	prev := d.last
	if age := now.at.Sub(prev.at); prev.at.IsZero() || age < 100*time.Millisecond || age > 10*time.Second {
		time.Sleep(idleWindow)
		prev = now
		if now, ok = readCPUSample(); !ok {
			return false
		}
	}
	d.at, d.last, d.spare = now.at, now, idleShare(prev, now) >= spareShare
	return d.spare
}

// cpuSample is the machine's CPU time from /proc/stat, in ticks: idle
// (with waiting for I/O) and all.
type cpuSample struct {
	at          time.Time
	idle, total uint64
}

func readCPUSample() (cpuSample, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSample{}, false
	}
	return parseCPUSample(b, time.Now())
}

// parseCPUSample reads the first line of /proc/stat: "cpu" and the ticks
// spent in user, nice, system, idle, iowait, irq, softirq and steal (the
// guest times after them are counted in user and nice already).
func parseCPUSample(stat []byte, at time.Time) (cpuSample, bool) {
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return cpuSample{}, false
	}
	s := cpuSample{at: at}
	for i, v := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return cpuSample{}, false
		}
		s.total += n
		if i == 3 || i == 4 { // idle, iowait
			s.idle += n
		}
	}
	return s, true
}

// idleShare is the share of the CPU time between a and b that was idle; 0
// if none passed.
func idleShare(a, b cpuSample) float64 {
	if b.total <= a.total || b.idle < a.idle {
		return 0
	}
	return float64(b.idle-a.idle) / float64(b.total-a.total)
}

// backgroundCPU sums the CPU time of the functions InBackground ran.
var backgroundCPU atomic.Int64

// backgroundRuns counts the functions InBackground ran, backgroundIdle
// those it ran in SCHED_IDLE.
var backgroundRuns, backgroundIdle atomic.Int64

// BackgroundRuns is how many functions InBackground ran, and how many of
// them in SCHED_IDLE (the others at buildNice).
func BackgroundRuns() (all, idle int64) { return backgroundRuns.Load(), backgroundIdle.Load() }

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
