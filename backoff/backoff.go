// Package backoff waits between retries: exponential, with equal jitter
// (half the interval plus a random share of the other half), and cut short
// by context cancellation.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is not safe for concurrent use; each retry loop owns one.
type Backoff struct {
	Min, Max time.Duration
	cur      time.Duration
}

// New returns a backoff from min doubling up to max.
func New(min, max time.Duration) *Backoff { return &Backoff{Min: min, Max: max} }

// Next returns the next wait: the current interval, halved plus a random
// share of the other half, then doubles the interval.
func (b *Backoff) Next() time.Duration {
	if b.cur == 0 {
		b.cur = b.Min
	} else {
		b.cur = min(2*b.cur, b.Max)
	}
	return b.cur/2 + rand.N(b.cur/2+1)
}

// Wait sleeps for Next and reports false when ctx ends first.
func (b *Backoff) Wait(ctx context.Context) bool {
	t := time.NewTimer(b.Next())
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Reset starts the next wait from Min again, after a success.
func (b *Backoff) Reset() { b.cur = 0 }
