//go:build !linux

package dnsgslb

import (
	"log/slog"
	"time"
)

// InBackground runs f; only Linux lowers the priority of one thread.
func InBackground[T any](f func() T) T { return f() }

// InBackgroundWaiting runs f, as InBackground does here.
func InBackgroundWaiting[T any](f func() T) T { return f() }

// BackgroundRuns is 0, 0: only Linux counts what InBackground runs.
func BackgroundRuns() (all, idle int64) { return 0, 0 }

// BackgroundCPU is 0: only Linux measures what InBackground runs.
func BackgroundCPU() time.Duration { return 0 }

// servingThread does nothing: only Linux gives a thread a short slice.
func servingThread() (restore func()) { return func() {} }

// BackgroundStarved is 0: only Linux runs background work in SCHED_IDLE.
func BackgroundStarved() int64 { return 0 }

// CanRescueIdle is false: only Linux has SCHED_IDLE.
func CanRescueIdle() bool { return false }

// logBackgroundClass says nothing: only Linux has SCHED_IDLE.
func logBackgroundClass(*slog.Logger) {}
