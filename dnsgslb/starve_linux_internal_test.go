//go:build linux

package dnsgslb

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestStarved: a thread is starved when it waited runnable for most of an
// interval and ran little of it; one that ran, or was blocked (neither ran
// nor waited), is not. One that was runnable at both ends of the interval
// and never blocked waited for all of it that it did not run, whatever
// schedstat says yet.
func TestStarved(t *testing.T) {
	span := 100 * time.Millisecond
	at := time.Now()
	for _, tt := range []struct {
		run, wait         time.Duration
		runnable, blocked bool
		want              bool
	}{
		{300 * time.Microsecond, 99 * time.Millisecond, false, true, true}, // SCHED_IDLE beside busy threads
		{9 * time.Millisecond, 60 * time.Millisecond, false, true, true},
		{50 * time.Millisecond, 50 * time.Millisecond, false, true, false}, // shares its CPU
		{100 * time.Millisecond, 0, true, false, false},                    // runs
		{0, 0, false, true, false},                                         // blocked
		{0, 40 * time.Millisecond, false, true, false},                     // blocked for most of it
		{0, 0, true, false, true},                                          // waits, not counted yet
		{2 * time.Millisecond, 0, true, false, true},
		{20 * time.Millisecond, 0, true, false, false},
		{0, 0, true, true, false}, // blocked between
	} {
		last := idleThread{at: at, runnable: true, blocked: 7}
		now := idleThread{at: at.Add(span), run: uint64(tt.run), wait: uint64(tt.wait), runnable: tt.runnable, blocked: 7}
		if tt.blocked {
			now.blocked++
		}
		if got := starved(last, now); got != tt.want {
			t.Errorf("ran %v, waited %v of %v, runnable %v, blocked %v: starved %v, want %v", tt.run, tt.wait, span, tt.runnable, tt.blocked, got, tt.want)
		}
	}
	if starved(idleThread{at: at, runnable: true}, idleThread{at: at, wait: 1, runnable: true}) {
		t.Error("starved over no time")
	}
	if run, wait, ok := parseSchedStat("3301408 25 1\n"); !ok || run != 3301408 || wait != 25 {
		t.Errorf("parsed %d, %d (%v)", run, wait, ok)
	}
	for _, bad := range []string{"", "12", "x 1 2"} {
		if _, _, ok := parseSchedStat(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
	if r, ok := parseRunnable("4242 (a (b) c) R 1 2 3\n"); !ok || !r {
		t.Errorf("state R parsed as runnable %v (%v)", r, ok)
	}
	if r, ok := parseRunnable("4242 (anyctl) S 1 2 3\n"); !ok || r {
		t.Errorf("state S parsed as runnable %v (%v)", r, ok)
	}
	if _, ok := parseRunnable("4242 (anyctl"); ok {
		t.Error("a stat without a state parsed")
	}
	if n, ok := parseVoluntarySwitches("Name:\tanyctl\nvoluntary_ctxt_switches:\t12\nnonvoluntary_ctxt_switches:\t3\n"); !ok || n != 12 {
		t.Errorf("voluntary switches parsed as %d (%v), want 12", n, ok)
	}
	if _, ok := parseVoluntarySwitches("nonvoluntary_ctxt_switches:\t3\n"); ok {
		t.Error("a status without voluntary switches parsed")
	}
}

// TestStarvedIdleWorkIsRescued: background work that started in SCHED_IDLE
// with CPU to spare, on a machine that then fills up with busy processes,
// is moved to buildNice in the normal class and ends, where in SCHED_IDLE
// it would get about 0.3% of a CPU beside each busy thread.
func TestStarvedIdleWorkIsRescued(t *testing.T) {
	if !CanRescueIdle() {
		t.Skip("this process cannot move a thread out of SCHED_IDLE (no CAP_SYS_NICE, RLIMIT_NICE under 10)")
	}
	noIdleClass.Store(false)
	defer noIdleClass.Store(true)
	for range runtime.NumCPU() + 1 {
		// Each loop ends with the test's process: one that times out
		// or is killed runs no cleanup, and would leave them spinning.
		busy := exec.Command("sh", "-c", "while kill -0 $PPID 2>/dev/null; do :; done")
		if err := busy.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = busy.Process.Kill()
			_ = busy.Wait()
		})
	}
	idleDecision.Lock()
	idleDecision.at, idleDecision.spare = time.Now(), true
	idleDecision.Unlock()
	defer func() {
		idleDecision.Lock()
		idleDecision.at = time.Time{}
		idleDecision.Unlock()
	}()
	starved0 := BackgroundStarved()
	_, idle0 := BackgroundRuns()
	done := make(chan *unix.SchedAttr, 1)
	go func() {
		done <- InBackground(func() *unix.SchedAttr {
			// The work runs until it is moved out of SCHED_IDLE, which
			// the busy processes, still starting, may not yet fill, and
			// then 50 ms of CPU: about 15 s in SCHED_IDLE beside them,
			// under a second at buildNice. The watchdog may move it
			// before it first reads its class.
			for {
				a, err := unix.SchedGetAttr(0, 0)
				if err != nil || a.Policy != unix.SCHED_IDLE {
					break
				}
				for t0 := threadCPU(); threadCPU()-t0 < time.Millisecond; {
				}
			}
			for t0 := threadCPU(); threadCPU()-t0 < 50*time.Millisecond; {
			}
			end, _ := unix.SchedGetAttr(0, 0)
			return end
		})
	}()
	var end *unix.SchedAttr
	select {
	case end = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("starved background work did not end in 2 minutes")
	}
	// Background work another test left running may be counted too.
	if _, idle := BackgroundRuns(); idle-idle0 < 1 {
		t.Fatalf("%d runs in SCHED_IDLE, want 1", idle-idle0)
	}
	if end == nil {
		t.Fatal("cannot read the thread's scheduling attributes")
	}
	if end.Policy != unix.SCHED_NORMAL || end.Nice != buildNice {
		t.Errorf("the work ended in policy %d at niceness %d, want SCHED_NORMAL (%d) at %d", end.Policy, end.Nice, unix.SCHED_NORMAL, buildNice)
	}
	if n := BackgroundStarved() - starved0; n < 1 {
		t.Errorf("counted %d starved threads, want 1", n)
	}
	if got := collected(t, newMetrics(), "anyctl_dns_background_starved_total"); got != float64(BackgroundStarved()) {
		t.Errorf("anyctl_dns_background_starved_total %v, want %d", got, BackgroundStarved())
	}
}

// TestNoIdleClassWithoutRescue: a process that cannot move a thread out of
// SCHED_IDLE (here: root without CAP_SYS_NICE, RLIMIT_NICE 0) never puts
// background work there, spare CPU or not.
func TestNoIdleClassWithoutRescue(t *testing.T) {
	if os.Getenv("DNSGSLB_PROBE_IDLE") == "1" {
		noIdleClass.Store(false)
		idleDecision.Lock()
		idleDecision.at, idleDecision.spare = time.Now(), true
		idleDecision.Unlock()
		attr := InBackground(func() *unix.SchedAttr { a, _ := unix.SchedGetAttr(0, 0); return a })
		fmt.Printf("probe: rescue=%v policy=%d nice=%d\n", CanRescueIdle(), attr.Policy, attr.Nice)
		return
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("needs root and setpriv (util-linux) to run without CAP_SYS_NICE")
	}
	var limit unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NICE, &limit); err != nil || limit.Cur != 0 {
		t.Skipf("RLIMIT_NICE is %d (%v): the process could leave SCHED_IDLE without CAP_SYS_NICE", limit.Cur, err)
	}
	cmd := exec.Command(setpriv, "--bounding-set=-sys_nice", os.Args[0], "-test.run=^TestNoIdleClassWithoutRescue$", "-test.count=1")
	cmd.Env = append(os.Environ(), "DNSGSLB_PROBE_IDLE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, out)
	}
	want := fmt.Sprintf("probe: rescue=false policy=%d nice=%d", unix.SCHED_NORMAL, buildNice)
	if !strings.Contains(string(out), want) {
		t.Errorf("without CAP_SYS_NICE: %s\nwant %q", out, want)
	}
}

// TestStarvedWhileWaiting: a thread in SCHED_IDLE that shares its CPU with
// a busy thread waits runnable for most of every interval, and is found
// starved in each, although schedstat adds a wait to the thread's total
// only when it ends (the thread gets a CPU or moves to another's queue),
// which in SCHED_IDLE beside a busy thread can be a second or more later.
func TestStarvedWhileWaiting(t *testing.T) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	cpu := 0
	for !set.IsSet(cpu) {
		cpu++
	}
	set.Zero()
	set.Set(cpu)
	busy := exec.Command("sh", "-c", "while kill -0 $PPID 2>/dev/null; do :; done")
	if err := busy.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = busy.Process.Kill()
		_ = busy.Wait()
	}()
	if err := unix.SchedSetaffinity(busy.Process.Pid, &set); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	tids := make(chan int)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends here
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			t.Error(err)
		}
		if err := unix.SchedSetAttr(0, &unix.SchedAttr{Policy: unix.SCHED_IDLE}, 0); err != nil {
			t.Error(err)
		}
		tids <- unix.Gettid()
		for {
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	tid := <-tids
	last, ok := readThread(tid)
	if !ok {
		t.Skip("cannot read the thread's schedstat")
	}
	n := 0
	for range 5 {
		time.Sleep(starveCheck)
		now, ok := readThread(tid)
		if !ok {
			t.Fatal("cannot read the thread's schedstat")
		}
		if starved(last, now) {
			n++
		}
		t.Logf("ran %v, waited %v of %v", time.Duration(now.run-last.run), time.Duration(now.wait-last.wait), now.at.Sub(last.at))
		last = now
	}
	if n < 4 {
		t.Errorf("found starved in %d of 5 intervals, want at least 4", n)
	}
}
