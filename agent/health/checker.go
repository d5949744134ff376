package health

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Checker runs one Spec on a fixed ticker, damps the results and reports
// every change of the announce decision through its callback.
type Checker struct {
	name     string
	spec     Spec
	clock    Clock
	onChange func(name string, up bool)
	// observe, when set, sees every probe's result and duration.
	observe func(ok bool, took time.Duration)

	mu       sync.Mutex // guards damper and the last-probe fields below
	damper   *Damper
	result   string
	duration time.Duration
	probeAt  time.Time
	probes   uint64
}

// NewChecker returns a Checker for spec. Rise and Fall left zero in damp are
// taken from spec. A nil clock is RealClock(). onChange, which may be nil,
// is called from Run's goroutine at the moment the decision changes, so it
// must not block for long; it may call Status.
func NewChecker(name string, spec Spec, damp DampConfig, clock Clock, onChange func(name string, up bool)) *Checker {
	if clock == nil {
		clock = RealClock()
	}
	spec = spec.withDefaults()
	if damp.Rise == 0 {
		damp.Rise = spec.Rise
	}
	if damp.Fall == 0 {
		damp.Fall = spec.Fall
	}
	return &Checker{
		name:     name,
		spec:     spec,
		clock:    clock,
		onChange: onChange,
		damper:   NewDamper(damp, clock.Now()),
	}
}

// ObserveProbes makes observe see every probe's result and duration, for
// metrics; call it before Run. observe runs on Run's goroutine and must be
// quick.
func (c *Checker) ObserveProbes(observe func(ok bool, took time.Duration)) { c.observe = observe }

// Name is the name the Checker reports under.
func (c *Checker) Name() string { return c.name }

// Run probes until ctx is cancelled, then returns nil. The first probe runs
// at once; the next ones start on a fixed grid of Interval from it (a slow
// probe skips slots rather than shifting the grid), sooner by FastInterval
// while a fall or rise is being confirmed, and at once when the connection
// watch sees the target close. The end of a hold-down wakes it too. It
// returns an error only for a Spec that cannot be probed.
func (c *Checker) Run(ctx context.Context) error {
	prober, err := NewProber(c.spec)
	if err != nil {
		c.mu.Lock()
		c.result = "invalid check: " + err.Error()
		c.mu.Unlock()
		return fmt.Errorf("health check %q: %w", c.name, err)
	}
	var watches sync.WaitGroup
	defer watches.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	watch := newConnWatch(c.spec)
	start := c.clock.Now()
	next := start // the next probe
	var last time.Time
	outOfCycle := false
	var timer Timer // made after the first probe, so a fake clock sees Run wait only when it does
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		now := c.clock.Now()
		if outOfCycle || !now.Before(next) {
			ok, done := c.probe(ctx, prober, now)
			if done {
				return nil
			}
			last = now
			if ok && c.spec.watchable() {
				watch.arm(ctx, &watches, now)
			}
		} else {
			c.advance(now)
		}
		next = c.nextProbe(start, last)
		wait := c.wakeAt(next).Sub(c.clock.Now())
		if timer == nil {
			timer = c.clock.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}

		outOfCycle = false
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C():
		case <-watch.fired:
			watch.active = false
			outOfCycle = true
		}
	}
}

// probe runs one probe, begun at now, and feeds the result to the damper.
// done is true when ctx ended during the probe; that result is not counted,
// so shutting down never withdraws.
func (c *Checker) probe(ctx context.Context, p Prober, now time.Time) (ok, done bool) {
	began := time.Now() // the duration is real even on a fake clock
	err := p.Probe(ctx)
	if ctx.Err() != nil {
		return false, true
	}
	took := time.Since(began)
	c.mu.Lock()
	changed := c.damper.Observe(err == nil, c.clock.Now())
	up := c.damper.Up()
	c.probes++
	c.probeAt, c.duration = now, took
	c.result = "ok"
	if err != nil {
		c.result = err.Error()
	}
	c.mu.Unlock()
	if c.observe != nil {
		c.observe(err == nil, took)
	}
	if changed && c.onChange != nil {
		c.onChange(c.name, up)
	}
	return err == nil, false
}

// advance lets the damper notice an expired hold-down.
func (c *Checker) advance(now time.Time) {
	c.mu.Lock()
	changed := c.damper.Advance(now)
	up := c.damper.Up()
	c.mu.Unlock()
	if changed && c.onChange != nil {
		c.onChange(c.name, up)
	}
}

// nextProbe is the first grid slot after the last probe began, or sooner
// by FastInterval while a transition is being confirmed.
func (c *Checker) nextProbe(start, last time.Time) time.Time {
	iv := c.spec.Interval
	next := start.Add((last.Sub(start)/iv + 1) * iv)
	c.mu.Lock()
	confirming := c.damper.transitioning()
	c.mu.Unlock()
	if fast := c.spec.FastInterval; confirming && fast > 0 && last.Add(fast).Before(next) {
		next = last.Add(fast)
	}
	return next
}

// wakeAt is the earlier of the next probe and the end of a hold-down.
func (c *Checker) wakeAt(next time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if dl, ok := c.damper.NextDeadline(); ok && dl.Before(next) {
		return dl
	}
	return next
}

// Status reports the check's state now.
func (c *Checker) Status() Status {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.damper.Status(now)
	s.LastResult = c.result
	s.LastDuration = c.duration
	s.LastProbe = c.probeAt
	s.Probes = c.probes
	return s
}
