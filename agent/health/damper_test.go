package health

import (
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// dstep is one input to a Damper and what must follow.
type dstep struct {
	at      time.Duration // since t0
	ev      string        // "ok", "fail", or "tick" (Advance without a result)
	up      bool
	changed bool
}

func TestDamperSteps(t *testing.T) {
	hold := DampConfig{Rise: 2, Fall: 1, HoldDown: 10 * time.Second}
	tests := []struct {
		name  string
		cfg   DampConfig
		steps []dstep
	}{
		{
			name: "first start waits for rise successes without hold-down",
			cfg:  DampConfig{Rise: 3, Fall: 2, HoldDown: time.Hour},
			steps: []dstep{
				{0, "ok", false, false},
				{1, "ok", false, false},
				{2, "ok", true, true},
			},
		},
		{
			name: "a failure restarts the rise count",
			cfg:  DampConfig{Rise: 2, Fall: 1},
			steps: []dstep{
				{0, "ok", false, false},
				{1, "fail", false, false},
				{2, "ok", false, false},
				{3, "ok", true, true},
			},
		},
		{
			name: "withdraws exactly at fall failures",
			cfg:  DampConfig{Rise: 1, Fall: 3},
			steps: []dstep{
				{0, "ok", true, true},
				{1, "fail", true, false},
				{2, "fail", true, false},
				{3, "fail", false, true},
				{4, "fail", false, false},
			},
		},
		{
			name: "fall one withdraws on the first failure",
			cfg:  DampConfig{Rise: 1, Fall: 1},
			steps: []dstep{
				{0, "ok", true, true},
				{1, "ok", true, false},
				{2, "fail", false, true},
			},
		},
		{
			name: "a success between failures restarts the fall count",
			cfg:  DampConfig{Rise: 1, Fall: 2},
			steps: []dstep{
				{0, "ok", true, true},
				{1, "fail", true, false},
				{2, "ok", true, false},
				{3, "fail", true, false},
				{4, "fail", false, true},
			},
		},
		{
			name: "re-announce waits out the hold-down after rise is reached",
			cfg:  hold,
			steps: []dstep{
				{0, "ok", false, false},
				{1 * time.Second, "ok", true, true},
				{2 * time.Second, "fail", false, true}, // held until 12s
				{3 * time.Second, "ok", false, false},
				{4 * time.Second, "ok", false, false},
				{12*time.Second - 1, "tick", false, false},
				{12 * time.Second, "tick", true, true},
			},
		},
		{
			name: "hold-down over before rise is reached",
			cfg:  hold,
			steps: []dstep{
				{0, "ok", false, false},
				{1 * time.Second, "ok", true, true},
				{2 * time.Second, "fail", false, true},
				{20 * time.Second, "ok", false, false},
				{21 * time.Second, "ok", true, true},
			},
		},
		{
			name: "a failure during the hold-down restarts the rise count",
			cfg:  hold,
			steps: []dstep{
				{0, "ok", false, false},
				{1 * time.Second, "ok", true, true},
				{2 * time.Second, "fail", false, true},
				{3 * time.Second, "ok", false, false},
				{4 * time.Second, "ok", false, false},
				{5 * time.Second, "fail", false, false},
				{12 * time.Second, "tick", false, false},
				{13 * time.Second, "ok", false, false},
				{14 * time.Second, "ok", true, true},
			},
		},
		{
			name: "started up: successes keep it up with no event",
			cfg:  DampConfig{Rise: 3, Fall: 2, StartUp: true},
			steps: []dstep{
				{0, "ok", true, false},
				{1, "ok", true, false},
				{2, "ok", true, false},
			},
		},
		{
			name: "started up: the first decision is a withdrawal after fall failures",
			cfg:  DampConfig{Rise: 2, Fall: 3, StartUp: true},
			steps: []dstep{
				{0, "fail", true, false},
				{1, "fail", true, false},
				{2, "ok", true, false},
				{3, "fail", true, false},
				{4, "fail", true, false},
				{5, "fail", false, true},
			},
		},
		{
			name: "started up: the first withdrawal holds down for hold_down, no flap",
			cfg:  DampConfig{Rise: 1, Fall: 1, HoldDown: 10 * time.Second, FlapWindow: time.Hour, StartUp: true},
			steps: []dstep{
				{0, "fail", false, true}, // held until 10s, not 20s
				{1 * time.Second, "ok", false, false},
				{10*time.Second - 1, "tick", false, false},
				{10 * time.Second, "tick", true, true},
			},
		},
		{
			name: "zero values mean rise and fall of one and no hold-down",
			cfg:  DampConfig{},
			steps: []dstep{
				{0, "ok", true, true},
				{1, "fail", false, true},
				{2, "ok", true, true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDamper(tt.cfg, t0)
			if d.Up() != tt.cfg.StartUp {
				t.Fatalf("new damper up=%v, want %v (StartUp)", d.Up(), tt.cfg.StartUp)
			}
			for i, s := range tt.steps {
				now := t0.Add(s.at)
				var changed bool
				switch s.ev {
				case "ok", "fail":
					changed = d.Observe(s.ev == "ok", now)
				case "tick":
					changed = d.Advance(now)
				default:
					t.Fatalf("step %d: unknown event %q", i, s.ev)
				}
				if changed != s.changed || d.Up() != s.up {
					t.Fatalf("step %d (%s at %s): changed=%v up=%v, want changed=%v up=%v",
						i, s.ev, s.at, changed, d.Up(), s.changed, s.up)
				}
			}
		})
	}
}

// TestDamperHoldDown drives a service through repeated withdrawals: it stays
// up for each duration in upFor, fails once, and comes back the moment its
// hold-down ends. Each withdrawal's hold-down is checked.
func TestDamperHoldDown(t *testing.T) {
	s := time.Second
	base := DampConfig{Rise: 1, Fall: 1, HoldDown: 10 * s, HoldDownMax: 80 * s, FlapWindow: 60 * s}
	tests := []struct {
		name  string
		cfg   DampConfig
		upFor []time.Duration
		want  []time.Duration
	}{
		{"first withdrawal uses hold_down", base, []time.Duration{s}, []time.Duration{10 * s}},
		{"each flap doubles", base, []time.Duration{s, s, s}, []time.Duration{10 * s, 20 * s, 40 * s}},
		{"capped at hold_down_max", base,
			[]time.Duration{s, s, s, s, s, s},
			[]time.Duration{10 * s, 20 * s, 40 * s, 80 * s, 80 * s, 80 * s}},
		{"a withdrawal after a stable window is no flap", base,
			[]time.Duration{s, 60 * s}, []time.Duration{10 * s, 10 * s}},
		{"one stable window halves the hold-down", base,
			[]time.Duration{s, s, s, 65 * s}, []time.Duration{10 * s, 20 * s, 40 * s, 20 * s}},
		{"two stable windows halve it twice", base,
			[]time.Duration{s, s, s, 125 * s}, []time.Duration{10 * s, 20 * s, 40 * s, 10 * s}},
		{"decay then a flap grows from the decayed value", base,
			[]time.Duration{s, s, s, 65 * s, s}, []time.Duration{10 * s, 20 * s, 40 * s, 20 * s, 40 * s}},
		{"hold_down_max defaults to eight times hold_down", DampConfig{HoldDown: 10 * s},
			[]time.Duration{s, s, s, s, s}, []time.Duration{10 * s, 20 * s, 40 * s, 80 * s, 80 * s}},
		{"zero hold_down never holds", DampConfig{}, []time.Duration{s, s}, []time.Duration{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDamper(tt.cfg, t0)
			now := t0
			if !d.Observe(true, now) {
				t.Fatalf("first success did not bring the damper up")
			}
			var got []time.Duration
			for _, up := range tt.upFor {
				now = now.Add(up)
				if !d.Observe(false, now) {
					t.Fatalf("failure after %s up did not withdraw", up)
				}
				left := d.HoldDownLeft(now)
				got = append(got, left)
				now = now.Add(left)
				if !d.Observe(true, now) {
					t.Fatalf("success at the end of a %s hold-down did not re-announce", left)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("hold-downs %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDamperNextDeadline(t *testing.T) {
	d := NewDamper(DampConfig{Rise: 2, Fall: 1, HoldDown: 10 * time.Second}, t0)
	if _, ok := d.NextDeadline(); ok {
		t.Fatalf("new damper has a deadline, want none")
	}
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	d.Observe(true, at(0))
	d.Observe(true, at(1))
	d.Observe(false, at(2)) // withdrawn, held until 12s
	if _, ok := d.NextDeadline(); ok {
		t.Fatalf("deadline while failing, want none: nothing would come up at it")
	}
	d.Observe(true, at(3))
	if _, ok := d.NextDeadline(); ok {
		t.Fatalf("deadline after one of two rise successes, want none")
	}
	d.Observe(true, at(4))
	dl, ok := d.NextDeadline()
	if !ok || !dl.Equal(at(12)) {
		t.Fatalf("NextDeadline = %v, %v; want %v, true", dl, ok, at(12))
	}
	if !d.Advance(dl) || !d.Up() {
		t.Fatalf("Advance at the deadline did not re-announce")
	}
	if _, ok := d.NextDeadline(); ok {
		t.Fatalf("deadline while up, want none")
	}
}

func TestDamperStatus(t *testing.T) {
	d := NewDamper(DampConfig{Rise: 1, Fall: 2, HoldDown: 10 * time.Second, FlapWindow: time.Minute}, t0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	if st := d.Status(at(0)); st.Observed || st.Healthy {
		t.Fatalf("status before any result = %+v, want unobserved and unhealthy", st)
	}
	d.Observe(true, at(0))
	d.Observe(true, at(1))
	st := d.Status(at(1))
	if !st.Healthy || !st.LastOK || st.Streak != 2 || !st.Since.Equal(at(0)) {
		t.Fatalf("status after two successes = %+v, want healthy, ok streak 2, since t0", st)
	}
	d.Observe(false, at(2))
	d.Observe(false, at(3)) // withdrawn at 3s, held until 13s
	d.Observe(true, at(13))
	d.Observe(false, at(14))
	d.Observe(false, at(15)) // a flap: held 20s, until 35s
	st = d.Status(at(20))
	want := Status{Healthy: false, Since: at(15), Observed: true, LastOK: false, Streak: 2, Flaps: 1, HoldDownLeft: 15 * time.Second}
	if st != want {
		t.Fatalf("status after a flap =\n%+v, want\n%+v", st, want)
	}
	d.Observe(true, at(35))
	if st := d.Status(at(35 + 60)); st.Flaps != 0 {
		t.Fatalf("flaps after a stable minute = %d, want 0", st.Flaps)
	}
}
