package dnsgslb

import (
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// A thread in SCHED_IDLE runs only on CPU time nothing else wants. Its
// class is chosen when its work starts (idleClass); when the machine fills
// up afterwards (a flood of queries, another process), it gets about 0.3%
// of a CPU beside each busy thread, and a refine or a first GeoIP read,
// seconds of work at City size, would take minutes. A watchdog therefore
// checks every starveCheck how the background threads in SCHED_IDLE fared
// (/proc/self/task/TID/schedstat: the time each ran, and the time it
// waited runnable for a CPU), and moves one that was starved (ran under
// starvedRun of the interval and waited over starvedWait of it) to
// buildNice in the normal class, where a busy machine would have put it.
// The kernel adds a wait to schedstat only when it ends, as the thread
// gets a CPU or moves to another's queue, which in SCHED_IDLE can be a
// second or more later; so a thread that was runnable at both ends of the
// interval and never blocked in it (/proc/self/task/TID/stat's state R,
// status's voluntary_ctxt_switches unchanged) waited for all of it that
// it did not run. A thread blocked on a lock, a read or a channel neither
// runs nor waits for a CPU, so it is left alone.
const (
	starveCheck = 100 * time.Millisecond
	starvedRun  = 0.10
	starvedWait = 0.50
)

// idleThread is what the watchdog last read of a watched thread.
type idleThread struct {
	at        time.Time
	run, wait uint64 // nanoseconds run, and waited runnable
	runnable  bool   // running or waiting for a CPU
	blocked   uint64 // times it gave up its CPU: to sleep, wait or read
}

// idleThreads are the threads the watchdog watches, by thread ID;
// watching is set while its goroutine runs.
var idleThreads struct {
	sync.Mutex
	m        map[int]idleThread
	watching bool
}

// backgroundStarved counts the threads the watchdog moved out of
// SCHED_IDLE.
var backgroundStarved atomic.Int64

// BackgroundStarved is how many threads running InBackground's work in
// SCHED_IDLE were starved by the machine's load and moved to buildNice in
// the normal class.
func BackgroundStarved() int64 { return backgroundStarved.Load() }

// watchStarving has the watchdog watch the calling thread, locked and in
// SCHED_IDLE, until the function returned is called on it. The thread
// lives until then, so the watchdog never acts on another thread that has
// reused its ID.
func watchStarving() (unwatch func()) {
	tid := unix.Gettid()
	last, ok := readThread(tid)
	if !ok {
		return func() {}
	}
	w := &idleThreads
	w.Lock()
	defer w.Unlock()
	if w.m == nil {
		w.m = map[int]idleThread{}
	}
	w.m[tid] = last
	if !w.watching {
		w.watching = true
		go rescueStarved()
	}
	return func() {
		w.Lock()
		delete(w.m, tid)
		w.Unlock()
	}
}

// rescueStarved is the watchdog: it runs while there are threads to watch.
func rescueStarved() {
	tick := time.NewTicker(starveCheck)
	defer tick.Stop()
	w := &idleThreads
	for range tick.C {
		w.Lock()
		if len(w.m) == 0 {
			w.watching = false
			w.Unlock()
			return
		}
		for tid, last := range w.m {
			now, ok := readThread(tid)
			switch {
			case !ok:
				delete(w.m, tid)
			case starved(last, now):
				if unix.SchedSetAttr(tid, &unix.SchedAttr{Policy: unix.SCHED_NORMAL, Nice: buildNice}, 0) == nil {
					backgroundStarved.Add(1)
				}
				delete(w.m, tid)
			default:
				w.m[tid] = now
			}
		}
		w.Unlock()
	}
}

// starved says whether a thread read as last and then now was starved of
// CPU in between: it ran under starvedRun of the time, and waited
// runnable over starvedWait of it, as schedstat says or because it was
// runnable all along.
func starved(last, now idleThread) bool {
	span := float64(now.at.Sub(last.at))
	if span <= 0 {
		return false
	}
	run, wait := float64(now.run-last.run), float64(now.wait-last.wait)
	waiting := last.runnable && now.runnable && now.blocked == last.blocked
	return run < starvedRun*span && (wait > starvedWait*span || waiting)
}

// readThread reads how the thread tid of this process fares: its
// schedstat, whether it is runnable, and how often it blocked.
func readThread(tid int) (t idleThread, ok bool) {
	dir := "/proc/self/task/" + strconv.Itoa(tid) + "/"
	t.at = time.Now()
	b, err := os.ReadFile(dir + "schedstat")
	if err != nil {
		return t, false
	}
	if t.run, t.wait, ok = parseSchedStat(string(b)); !ok {
		return t, false
	}
	if b, err = os.ReadFile(dir + "stat"); err != nil {
		return t, false
	}
	if t.runnable, ok = parseRunnable(string(b)); !ok {
		return t, false
	}
	if b, err = os.ReadFile(dir + "status"); err != nil {
		return t, false
	}
	t.blocked, ok = parseVoluntarySwitches(string(b))
	return t, ok
}

// parseSchedStat reads a schedstat file: the time run, the time waited on
// a run queue (both in nanoseconds) and the number of time slices.
func parseSchedStat(s string) (run, wait uint64, ok bool) {
	f := strings.Fields(s)
	if len(f) < 2 {
		return 0, 0, false
	}
	run, err1 := strconv.ParseUint(f[0], 10, 64)
	wait, err2 := strconv.ParseUint(f[1], 10, 64)
	return run, wait, err1 == nil && err2 == nil
}

// parseRunnable reads a stat file's state, after the command name in
// parentheses (which may hold any character): R is running or runnable.
func parseRunnable(s string) (runnable, ok bool) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 || len(s) < i+3 {
		return false, false
	}
	return s[i+2] == 'R', true
}

// parseVoluntarySwitches reads a status file's voluntary_ctxt_switches:
// how often the thread gave up its CPU rather than was preempted.
func parseVoluntarySwitches(s string) (n uint64, ok bool) {
	for line := range strings.Lines(s) {
		if v, found := strings.CutPrefix(line, "voluntary_ctxt_switches:"); found {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// CanRescueIdle reports whether this process can move a starved thread out
// of SCHED_IDLE: the kernel allows it only to a niceness the process may
// lower itself to, buildNice, which takes CAP_SYS_NICE or an RLIMIT_NICE
// of at least 20-buildNice (systemd's LimitNICE=10), and the watchdog
// needs the threads' files in /proc/self/task. A process that cannot
// never puts background work in SCHED_IDLE: it runs at buildNice in the
// normal class, as on a busy machine. It is found out once, by lowering
// a thread's niceness from buildNice+1 to buildNice (the check the
// kernel makes on leaving SCHED_IDLE) on a thread that ends with the
// probe.
var CanRescueIdle = sync.OnceValue(func() bool {
	ok := make(chan bool)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends here
		tid := unix.Gettid()
		if _, read := readThread(tid); !read {
			ok <- false
			return
		}
		ok <- unix.Setpriority(unix.PRIO_PROCESS, tid, buildNice+1) == nil &&
			unix.Setpriority(unix.PRIO_PROCESS, tid, buildNice) == nil
	}()
	return <-ok
})

// logBackgroundClass says, when this process cannot move a starved thread
// out of SCHED_IDLE, that background work never runs there and how to
// allow it.
func logBackgroundClass(log *slog.Logger) {
	if !noIdleClass.Load() && !CanRescueIdle() {
		log.Info("dns runs snapshot builds and GeoIP reads at niceness 10, not in SCHED_IDLE: this process cannot move a thread that a busy machine starves there back out; allow it with CAP_SYS_NICE or an RLIMIT_NICE of 10 (systemd: LimitNICE=10) for lower query latency during builds")
	}
}
