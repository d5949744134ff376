package dnsgslb_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// servingSlice is the time slice the blocking UDP workers ask for.
const servingSlice = 100_000

// shortSliceThreads counts this process's threads that run with the
// serving workers' short time slice.
func shortSliceThreads(t *testing.T) int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		if attr, err := unix.SchedGetAttr(tid, 0); err == nil && attr.Runtime == servingSlice {
			n++
		}
	}
	return n
}

// TestBlockingWorkersShortSlice checks that each blocking UDP worker's
// thread asks the kernel for a short time slice (so that a datagram
// preempts a build or the garbage collector on its CPU at once), that no
// other thread has it, and that it goes with the workers when the server
// stops rather than to other goroutines.
func TestBlockingWorkersShortSlice(t *testing.T) {
	supported := make(chan bool)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		was, err := unix.SchedGetAttr(0, 0)
		if err != nil || was.Runtime == servingSlice {
			supported <- false
			return
		}
		attr := unix.SchedAttr{Policy: unix.SCHED_NORMAL, Nice: was.Nice, Runtime: servingSlice}
		ok := unix.SchedSetAttr(0, &attr, 0) == nil
		if got, err := unix.SchedGetAttr(0, 0); err != nil || got.Runtime != servingSlice {
			ok = false
		}
		attr.Runtime = 0 // the default slice
		if unix.SchedSetAttr(0, &attr, 0) != nil {
			t.Error("cannot give the thread its slice back")
		}
		supported <- ok
	}()
	if !<-supported {
		t.Skip("this kernel does not take a thread's time slice from sched_setattr (Linux 6.12 and later)")
	}
	waitFor := func(want int, what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for shortSliceThreads(t) != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d threads with a %d ns slice, want %d", what, shortSliceThreads(t), servingSlice, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(0, "before the server runs")

	s := newServerWith(t, dnsgslb.Config{UDPWorkers: 2, UDPMode: dnsgslb.UDPBlocking}, gslbtest.Snapshot())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-s.Ready()
	waitFor(2, "serving with 2 blocking workers")
	// A build runs at its own priority, not with the workers' slice.
	if err := s.Update(gslbtest.Snapshot()); err != nil {
		t.Fatal(err)
	}
	waitFor(2, "after an update")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	waitFor(0, "after the server stopped")
}
