package health

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// change is one onChange call.
type change struct {
	up bool
	at time.Time
}

// recorder collects a Checker's transitions.
type recorder struct {
	clock Clock

	mu      sync.Mutex // guards changes
	changes []change
}

func (r *recorder) onChange(_ string, up bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, change{up, r.clock.Now()})
}

func (r *recorder) get() []change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]change(nil), r.changes...)
}

// startChecker runs c until the test ends and checks that Run then returns
// nil.
func startChecker(t *testing.T, c *Checker) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v after cancel, want nil", err)
		}
	})
}

// awaitIdle waits until the Checker is blocked on its fake timer, so that
// everything due before now has run.
func awaitIdle(t *testing.T, clock *FakeClock) time.Time {
	t.Helper()
	var when time.Time
	await(t, "the checker to wait on its timer", func() bool {
		w, ok := clock.NextTimer()
		when = w
		return ok && w.After(clock.Now())
	})
	return when
}

// step advances the fake clock and waits for the Checker to settle.
func step(t *testing.T, clock *FakeClock, d time.Duration) {
	t.Helper()
	clock.Advance(d)
	awaitIdle(t, clock)
}

func wantChanges(t *testing.T, r *recorder, want ...change) {
	t.Helper()
	got := r.get()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("changes %v, want %v", got, want)
	}
}

// TestCheckerDownAndBack drives a real HTTP target on a fake clock: down
// after fall failures, and back only after rise successes and the
// hold-down, at the hold-down's end rather than at the next probe.
func TestCheckerDownAndBack(t *testing.T) {
	ht := startHTTPTarget(t, false)
	clock := NewFakeClock(t0)
	rec := &recorder{clock: clock}
	spec := Spec{Protocol: ProtocolHTTP, Target: ht.Addr(), Path: "/health", Interval: time.Second,
		Timeout: 5 * time.Second, Rise: 2, Fall: 2, DisableConnWatch: true}
	hold := 10*time.Second + 500*time.Millisecond
	c := NewChecker("web", spec, DampConfig{HoldDown: hold}, clock, rec.onChange)
	startChecker(t, c)
	at := func(d time.Duration) time.Time { return t0.Add(d) }

	if next := awaitIdle(t, clock); !next.Equal(at(time.Second)) {
		t.Fatalf("after the first probe the checker waits until %v, want %v", next, at(time.Second))
	}
	wantChanges(t, rec)
	step(t, clock, time.Second)
	wantChanges(t, rec, change{true, at(time.Second)})

	ht.healthy.Store(false)
	step(t, clock, time.Second)
	wantChanges(t, rec, change{true, at(time.Second)})
	step(t, clock, time.Second)
	wantChanges(t, rec, change{true, at(time.Second)}, change{false, at(3 * time.Second)})
	if st := c.Status(); !strings.Contains(st.LastResult, "status 503, want 200") || st.HoldDownLeft != hold {
		t.Fatalf("status after withdrawal = %+v, want a 503 result and %s hold-down left", st, hold)
	}

	ht.healthy.Store(true)
	for now := 4 * time.Second; now <= 13*time.Second; now += time.Second {
		step(t, clock, time.Second) // rise is reached at 5s; the hold-down lasts until 13.5s
	}
	wantChanges(t, rec, change{true, at(time.Second)}, change{false, at(3 * time.Second)})
	if next := awaitIdle(t, clock); !next.Equal(at(13*time.Second + 500*time.Millisecond)) {
		t.Fatalf("with rise reached the checker waits until %v, want the hold-down's end %v", next, at(13500*time.Millisecond))
	}
	probes := c.Status().Probes
	step(t, clock, 500*time.Millisecond)
	wantChanges(t, rec, change{true, at(time.Second)}, change{false, at(3 * time.Second)},
		change{true, at(13*time.Second + 500*time.Millisecond)})
	if st := c.Status(); st.Probes != probes || !st.Healthy {
		t.Fatalf("status after the hold-down = %+v, want healthy with no new probe (%d)", st, probes)
	}
}

// TestCheckerFastInterval checks that a fall of three is confirmed at the
// fast interval, and the grid resumes after.
func TestCheckerFastInterval(t *testing.T) {
	ht := startHTTPTarget(t, false)
	clock := NewFakeClock(t0)
	rec := &recorder{clock: clock}
	spec := Spec{Protocol: ProtocolHTTP, Target: ht.Addr(), Path: "/health", Interval: time.Second,
		FastInterval: 100 * time.Millisecond, Timeout: 5 * time.Second, Rise: 1, Fall: 3, DisableConnWatch: true}
	c := NewChecker("web", spec, DampConfig{}, clock, rec.onChange)
	startChecker(t, c)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

	awaitIdle(t, clock)
	wantChanges(t, rec, change{true, ms(0)})
	ht.healthy.Store(false)
	for _, w := range []struct {
		advance time.Duration
		next    time.Time
	}{
		{time.Second, ms(1100)},            // first failure: confirm fast
		{100 * time.Millisecond, ms(1200)}, // second
		{100 * time.Millisecond, ms(2000)}, // third withdraws; back on the grid
	} {
		clock.Advance(w.advance)
		if next := awaitIdle(t, clock); !next.Equal(w.next) {
			t.Fatalf("at %v the next wake is %v, want %v", clock.Now(), next, w.next)
		}
	}
	wantChanges(t, rec, change{true, ms(0)}, change{false, ms(1200)})
}

// TestCheckerConnWatch kills targets of checkers whose interval is an
// hour: only the connection watch can notice in time.
func TestCheckerConnWatch(t *testing.T) {
	tests := []struct {
		name     string
		protocol string
		start    func(t *testing.T) (addr string, kill func())
	}{
		{"tcp", ProtocolTCP, func(t *testing.T) (string, func()) {
			tt := startTCPTarget(t, false)
			return tt.Addr(), tt.Kill
		}},
		{"http", ProtocolHTTP, func(t *testing.T) (string, func()) {
			ht := startHTTPTarget(t, false)
			return ht.Addr(), ht.srv.Close
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, kill := tt.start(t)
			rec := &recorder{clock: RealClock()}
			spec := Spec{Protocol: tt.protocol, Target: addr, Path: "/health", Interval: time.Hour,
				Timeout: 5 * time.Second, Rise: 1, Fall: 1}
			c := NewChecker("svc", spec, DampConfig{}, nil, rec.onChange)
			startChecker(t, c)
			await(t, "the service to come up", func() bool { return len(rec.get()) == 1 })
			kill()
			await(t, "the withdrawal", func() bool { return len(rec.get()) == 2 })
			if got := rec.get(); got[1].up {
				t.Fatalf("second change is up, want down: %v", got)
			}
			if st := c.Status(); !strings.Contains(st.LastResult, "connection refused") {
				t.Fatalf("last result %q, want connection refused", st.LastResult)
			}
		})
	}
}

// TestCheckerConnWatchIdleClose: a server that drops idle connections
// causes an extra probe, which succeeds, not a withdrawal.
func TestCheckerConnWatchIdleClose(t *testing.T) {
	tt := startTCPTarget(t, true)
	rec := &recorder{clock: RealClock()}
	spec := Spec{Protocol: ProtocolTCP, Target: tt.Addr(), Interval: time.Hour, Timeout: 5 * time.Second, Rise: 1, Fall: 1}
	c := NewChecker("svc", spec, DampConfig{}, nil, rec.onChange)
	startChecker(t, c)
	await(t, "an out-of-cycle probe", func() bool { return c.Status().Probes >= 2 })
	if st := c.Status(); !st.Healthy || st.LastResult != "ok" {
		t.Fatalf("status after the watch fired = %+v, want healthy and ok", st)
	}
	if got := rec.get(); len(got) != 1 || !got[0].up {
		t.Fatalf("changes %v, want only the first up", got)
	}
}

// TestCheckerTicker: without the watch, the ticker alone finds the death.
func TestCheckerTicker(t *testing.T) {
	tt := startTCPTarget(t, false)
	rec := &recorder{clock: RealClock()}
	spec := Spec{Protocol: ProtocolTCP, Target: tt.Addr(), Interval: 10 * time.Millisecond, Rise: 1, Fall: 2, DisableConnWatch: true}
	c := NewChecker("svc", spec, DampConfig{}, nil, rec.onChange)
	startChecker(t, c)
	await(t, "the service to come up", func() bool { return len(rec.get()) == 1 })
	tt.Kill()
	await(t, "the withdrawal", func() bool { return len(rec.get()) == 2 })
	if st := c.Status(); st.Healthy || st.Streak < 2 {
		t.Fatalf("status = %+v, want unhealthy after two failures", st)
	}
}

// TestCheckerShutdownDuringProbe: cancelling Run in the middle of a probe
// returns nil and counts nothing, so a shutdown never withdraws.
func TestCheckerShutdownDuringProbe(t *testing.T) {
	silent := startTCPTarget(t, false)
	rec := &recorder{clock: RealClock()}
	spec := Spec{Protocol: ProtocolHTTP, Target: silent.Addr(), Timeout: time.Hour, Interval: time.Hour, Rise: 1, Fall: 1}
	c := NewChecker("svc", spec, DampConfig{}, nil, rec.onChange)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	await(t, "the probe to connect", func() bool { return silent.Held() == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if st := c.Status(); st.Probes != 0 || len(rec.get()) != 0 {
		t.Fatalf("after shutdown: status %+v, changes %v; want no probe counted and no change", st, rec.get())
	}
}

func TestCheckerInvalidSpec(t *testing.T) {
	c := NewChecker("svc", Spec{Protocol: "gopher", Target: "a:70"}, DampConfig{}, nil, nil)
	err := c.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), `health check "svc": protocol "gopher"`) {
		t.Fatalf("Run = %v, want an error naming the check and the protocol", err)
	}
	if st := c.Status(); !strings.HasPrefix(st.LastResult, "invalid check: ") {
		t.Fatalf("last result %q, want it to say the check is invalid", st.LastResult)
	}
}
