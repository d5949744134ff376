package feed_test

import (
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// backgroundThreads is the set of this process's threads at the
// snapshot build's low priority (niceness 10, in SCHED_IDLE or not).
func backgroundThreads(t *testing.T) map[int]bool {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	set := map[int]bool{}
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		// getpriority returns 20 - niceness.
		if prio, err := unix.Getpriority(unix.PRIO_PROCESS, tid); err == nil && 20-prio == 10 {
			set[tid] = true
		}
	}
	return set
}

// TestFeedReceivesAtLowPriority: the feed waits for (and so decodes) the
// next snapshot on a thread at the build's low priority, not on one that
// competes with the serving workers for a CPU when an update starts.
func TestFeedReceivesAtLowPriority(t *testing.T) {
	dir := t.TempDir()
	ctl := startController(t, dir)
	applyObjects(t, ctl, exampleObjects(t)...)
	// Threads earlier tests left at that priority (one that ran on the
	// main thread stays, parked) are not the feed's.
	before := backgroundThreads(t)
	waitNew := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			for tid := range backgroundThreads(t) {
				if !before[tid] {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no thread of the feed at niceness 10", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	f := startFeed(t, ctl.Addr)
	f.await(t, "the example snapshot", func(s *v1.GslbSnapshot) bool { return len(s.GetZones()) > 0 })
	waitNew("waiting for the next snapshot")
	applyObjects(t, ctl, originWithWeight(t, "eu-west", 31))
	f.await(t, "eu-west at weight 31", weightIs("eu-west", 31))
	waitNew("waiting for the snapshot after that")
}
