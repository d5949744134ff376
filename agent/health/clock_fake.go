package health

import (
	"sort"
	"sync"
	"time"
)

// FakeClock is a Clock that moves only when told to, for tests of damping
// timing. Timers fire during Advance, in deadline order.
type FakeClock struct {
	mu     sync.Mutex // guards now and timers
	now    time.Time
	timers []*fakeTimer // armed timers
}

// NewFakeClock returns a FakeClock reading start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{now: start} }

// Now returns the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires when the clock reaches now+d.
func (c *FakeClock) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{clock: c, ch: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

// Advance moves the clock forward by d and fires the timers that are due.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	sort.Slice(c.timers, func(i, j int) bool { return c.timers[i].when.Before(c.timers[j].when) })
	var keep []*fakeTimer
	for _, t := range c.timers {
		if t.when.After(c.now) {
			keep = append(keep, t)
			continue
		}
		t.fireLocked(c.now)
	}
	c.timers = keep
}

// NextTimer returns the earliest deadline of an armed timer; ok is false
// when none is armed. Tests use it to see that a Checker is waiting, and
// for what.
func (c *FakeClock) NextTimer() (when time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.timers {
		if !ok || t.when.Before(when) {
			when, ok = t.when, true
		}
	}
	return when, ok
}

// removeLocked disarms t and reports whether it was armed.
func (c *FakeClock) removeLocked(t *fakeTimer) bool {
	for i, x := range c.timers {
		if x == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			return true
		}
	}
	return false
}

type fakeTimer struct {
	clock *FakeClock
	ch    chan time.Time
	when  time.Time // deadline while armed; guarded by clock.mu
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

// Reset rearms the timer, firing it at once when d is not positive.
func (t *fakeTimer) Reset(d time.Duration) bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	armed := c.removeLocked(t)
	t.drain()
	t.when = c.now.Add(d)
	if d <= 0 {
		t.fireLocked(c.now)
	} else {
		c.timers = append(c.timers, t)
	}
	return armed
}

// Stop disarms the timer and discards a pending expiry.
func (t *fakeTimer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	t.drain()
	return c.removeLocked(t)
}

func (t *fakeTimer) fireLocked(now time.Time) {
	select {
	case t.ch <- now:
	default:
	}
}

func (t *fakeTimer) drain() {
	select {
	case <-t.ch:
	default:
	}
}
