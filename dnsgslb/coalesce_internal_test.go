package dnsgslb

import (
	"testing"
	"time"
)

// TestCoalescerDecides follows one worker's coalescer through windows of
// load: it waits only while the worker is busy and datagrams come fast
// enough for a wait to gather two, keeps waiting until either halves,
// and never waits after an empty read or a full batch.
func TestCoalescerDecides(t *testing.T) {
	const wait, full = 50 * time.Microsecond, 32
	c := newCoalescer(wait, full)
	var now, cpu time.Duration
	readCPU := func() time.Duration { return cpu }
	// window runs one coalesceWindow in which the worker reads datagrams
	// in reads of per and uses share of the time, and says whether the
	// coalescer waits after the window's last read.
	window := func(datagrams, per int, share float64) bool {
		t.Helper()
		reads := max(datagrams/per, 1)
		start, cpu0 := now, cpu
		held := false
		for i := range reads {
			now = start + coalesceWindow*time.Duration(i+1)/time.Duration(reads)
			cpu = cpu0 + time.Duration(share*float64(now-start))
			held = c.after(per, now, readCPU)
		}
		return held
	}
	// 2 ms windows: a wait of 50 µs gathers two datagrams at 80 a window.
	steps := []struct {
		what            string
		datagrams, per  int
		share           float64
		wantOn, wantHol bool
	}{
		{"first window", 200, 4, 0.9, false, false}, // no window measured yet
		{"busy and fast", 200, 4, 0.9, true, true},
		{"still busy, a third less CPU", 200, 8, 0.6, true, true},
		{"share between the thresholds", 200, 8, 0.25, true, true},
		{"share under half the threshold", 200, 8, 0.19, false, false},
		{"share between the thresholds again", 200, 8, 0.3, false, false},
		{"busy again", 200, 4, 0.5, true, true},
		{"rate under one datagram a wait", 30, 1, 0.5, false, false},
		{"busy, rate between the thresholds", 60, 2, 0.9, false, false},
		{"busy, two datagrams a wait", 80, 4, 0.9, true, true},
		{"rate between the thresholds", 60, 2, 0.9, true, true},
	}
	for _, st := range steps {
		held := window(st.datagrams, st.per, st.share)
		if c.on != st.wantOn || held != st.wantHol {
			t.Fatalf("%s (%d datagrams in %v, %.0f%% CPU): coalescing %v, waits %v; want %v, %v",
				st.what, st.datagrams, coalesceWindow, 100*st.share, c.on, held, st.wantOn, st.wantHol)
		}
	}
	if !c.on {
		t.Fatal("not coalescing before the read checks")
	}
	if c.after(0, now+time.Microsecond, readCPU) {
		t.Error("waits after a read that returned nothing")
	}
	if c.after(full, now+2*time.Microsecond, readCPU) {
		t.Error("waits after a full batch, with more datagrams queued")
	}
	if !c.after(full-1, now+3*time.Microsecond, readCPU) {
		t.Error("does not wait after a batch short of full")
	}

	// A receive that times out (no datagram for 5 ms) ends it at once;
	// the next window is measured from the next read, an hour later.
	c.idle()
	now += time.Hour
	if c.on || c.after(4, now, readCPU) {
		t.Error("coalescing after an idle receive")
	}
	if !window(200, 4, 0.9) {
		t.Error("not coalescing after a busy window that followed an idle receive")
	}

	off := newCoalescer(-1, full)
	off.busy = 0
	for i := range 1000 {
		if off.after(8, time.Duration(i)*time.Microsecond, readCPU) {
			t.Fatal("a coalescer with a negative wait waited")
		}
	}
}

// TestUDPCoalesceConfig: 0 is the default wait, a negative value stays
// (never), and a wait over the limit is refused with the field and value.
func TestUDPCoalesceConfig(t *testing.T) {
	for _, tc := range []struct{ set, want time.Duration }{{0, DefaultUDPCoalesce}, {-1, -1}, {MaxUDPCoalesce, MaxUDPCoalesce}} {
		if got := testServerWith(t, Config{UDPCoalesce: tc.set}).cfg.UDPCoalesce; got != tc.want {
			t.Errorf("UDPCoalesce %v: server has %v, want %v", tc.set, got, tc.want)
		}
	}
	_, err := New(Config{Listen: "127.0.0.1:0", UDPCoalesce: 2 * time.Millisecond})
	if want := "dnsgslb: UDPCoalesce 2ms: want at most 1ms (0 for 50µs, negative for none)"; err == nil || err.Error() != want {
		t.Errorf("New with a 2 ms wait: %v, want %s", err, want)
	}
}
