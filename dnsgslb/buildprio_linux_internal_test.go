//go:build linux

package dnsgslb

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestIdleShare reads /proc/stat's first line as the kernel writes it and
// takes the idle share between two readings.
func TestIdleShare(t *testing.T) {
	at := time.Now()
	a, ok := parseCPUSample([]byte("cpu  100 10 50 800 40 0 0 0 7 3\ncpu0 1 2 3 4 5 6 7 8 0 0\n"), at)
	if !ok || a.idle != 840 || a.total != 1000 {
		t.Fatalf("parsed %+v (%v), want idle 840 of 1000 (guest time is in user and nice already)", a, ok)
	}
	b, _ := parseCPUSample([]byte("cpu  300 10 150 1000 40 0 0 0 0 0\n"), at.Add(time.Second))
	if got := idleShare(a, b); got != 0.4 {
		t.Errorf("idle share %v, want 0.4 (200 of 500 ticks)", got)
	}
	if got := idleShare(b, b); got != 0 {
		t.Errorf("idle share over no time %v, want 0", got)
	}
	for _, bad := range []string{"", "intr 1 2 3", "cpu 1 2 x 4 5"} {
		if s, ok := parseCPUSample([]byte(bad), at); ok {
			t.Errorf("%q parsed as %+v", bad, s)
		}
	}
}

// TestInBackgroundPriority checks that background work runs in SCHED_IDLE
// when the machine has CPU to spare and at buildNice in the normal class
// when it has not, as idleClass decides, and that work which may wait
// long (InBackgroundWaiting) is never in SCHED_IDLE. Other packages'
// tests may fill the CPUs: the work in SCHED_IDLE may then be starved
// before it reads its class, and moved to buildNice in the normal class.
func TestInBackgroundPriority(t *testing.T) {
	noIdleClass.Store(false)
	defer noIdleClass.Store(true)
	all0, idle0 := BackgroundRuns()
	for _, spare := range []bool{true, false} {
		idleDecision.Lock()
		idleDecision.at, idleDecision.spare = time.Now(), spare
		idleDecision.Unlock()
		starved0 := BackgroundStarved()
		attr := InBackground(func() *unix.SchedAttr {
			a, err := unix.SchedGetAttr(0, 0)
			if err != nil {
				t.Error(err)
			}
			return a
		})
		switch {
		case attr == nil:
		case spare && !CanRescueIdle():
			if attr.Policy != unix.SCHED_NORMAL || attr.Nice != buildNice {
				t.Errorf("with CPU to spare, in a process that cannot leave SCHED_IDLE: policy %d niceness %d, want SCHED_NORMAL (%d) at %d", attr.Policy, attr.Nice, unix.SCHED_NORMAL, buildNice)
			}
		case spare && BackgroundStarved() > starved0:
			// Moved before or after it read its class.
			if attr.Policy != unix.SCHED_IDLE && attr.Policy != unix.SCHED_NORMAL || attr.Nice != buildNice {
				t.Errorf("with CPU to spare, then starved: policy %d niceness %d, want SCHED_IDLE (%d) or SCHED_NORMAL (%d) at %d", attr.Policy, attr.Nice, unix.SCHED_IDLE, unix.SCHED_NORMAL, buildNice)
			}
		case spare && (attr.Policy != unix.SCHED_IDLE || attr.Nice != buildNice):
			t.Errorf("with CPU to spare: policy %d niceness %d, want SCHED_IDLE (%d) at %d", attr.Policy, attr.Nice, unix.SCHED_IDLE, buildNice)
		case !spare && (attr.Policy != unix.SCHED_NORMAL || attr.Nice != buildNice):
			t.Errorf("on a busy machine: policy %d niceness %d, want SCHED_NORMAL (%d) at %d", attr.Policy, attr.Nice, unix.SCHED_NORMAL, buildNice)
		}
	}
	// Work that may wait long stays in the normal class, spare CPU or not.
	idleDecision.Lock()
	idleDecision.at, idleDecision.spare = time.Now(), true
	idleDecision.Unlock()
	if attr := InBackgroundWaiting(func() *unix.SchedAttr { a, _ := unix.SchedGetAttr(0, 0); return a }); attr == nil || attr.Policy != unix.SCHED_NORMAL || attr.Nice != buildNice {
		t.Errorf("waiting work with CPU to spare: %+v, want SCHED_NORMAL at %d", attr, buildNice)
	}
	wantIdle := int64(1)
	if !CanRescueIdle() {
		wantIdle = 0
	}
	if all, idle := BackgroundRuns(); all-all0 != 3 || idle-idle0 != wantIdle {
		t.Errorf("counted %d runs, %d in SCHED_IDLE; want 3, %d", all-all0, idle-idle0, wantIdle)
	}
	idleDecision.Lock()
	idleDecision.at = time.Time{}
	idleDecision.Unlock()
	// A real measurement decides one way or the other, and is kept.
	first := idleClass()
	if again := idleClass(); again != first {
		t.Errorf("a second decision within a second changed from %v to %v", first, again)
	}
}
