package controller

import (
	"testing"
	"time"

	"github.com/anyctl/anyctl/compile"
	"github.com/anyctl/anyctl/controller/store"
)

func TestNextDrainStep(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := func(step compile.DrainStep, draining bool) store.DrainRecord {
		return store.DrainRecord{Step: step, Since: t0, Draining: draining, GslbWait: 30 * time.Second, Period: 20 * time.Second}
	}
	tests := []struct {
		name          string
		r             store.DrainRecord
		after         time.Duration
		want          compile.DrainStep
		changed, done bool
	}{
		{"drain starts out of GSLB", rec(compile.DrainNone, true), 0, compile.DrainGslb, true, false},
		{"GSLB step waits out the TTL", rec(compile.DrainGslb, true), 29 * time.Second, compile.DrainGslb, false, false},
		{"then graceful shutdown", rec(compile.DrainGslb, true), 30 * time.Second, compile.DrainGracefulShutdown, true, false},
		{"graceful shutdown waits the period", rec(compile.DrainGracefulShutdown, true), 19 * time.Second, compile.DrainGracefulShutdown, false, false},
		{"then withdrawn", rec(compile.DrainGracefulShutdown, true), 20 * time.Second, compile.DrainWithdrawn, true, false},
		{"withdrawn stays", rec(compile.DrainWithdrawn, true), time.Hour, compile.DrainWithdrawn, false, false},
		{"undrain re-announces with graceful shutdown at once", rec(compile.DrainWithdrawn, false), 0, compile.DrainGracefulShutdown, true, false},
		{"then announces normally after settling", rec(compile.DrainGracefulShutdown, false), undrainSettle, compile.DrainGslb, true, false},
		{"then back into GSLB", rec(compile.DrainGslb, false), undrainSettle, compile.DrainNone, true, true},
		{"undrain of a GSLB-only drain settles first", rec(compile.DrainGslb, false), time.Second, compile.DrainGslb, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, changed, done := nextDrainStep(tt.r, t0.Add(tt.after))
			if next.Step != tt.want || changed != tt.changed || done != tt.done {
				t.Errorf("got step %v changed %v done %v, want %v %v %v", next.Step, changed, done, tt.want, tt.changed, tt.done)
			}
			if changed && !next.Since.Equal(t0.Add(tt.after)) {
				t.Errorf("since %v, want the transition time", next.Since)
			}
		})
	}
}

// TestDrainDue checks drainDue against nextDrainStep: a record moves on at
// its due time and not a nanosecond before, and one that waits on nothing
// never moves on by itself.
func TestDrainDue(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, draining := range []bool{true, false} {
		for _, step := range []compile.DrainStep{compile.DrainNone, compile.DrainGslb, compile.DrainGracefulShutdown, compile.DrainWithdrawn} {
			r := store.DrainRecord{Step: step, Since: t0, Draining: draining, GslbWait: 30 * time.Second, Period: 20 * time.Second}
			due, ok := drainDue(r)
			if !ok {
				if _, changed, done := nextDrainStep(r, t0.Add(24*time.Hour)); changed || done {
					t.Errorf("%v draining %v: not due, but moves on a day later", step, draining)
				}
				continue
			}
			if _, changed, done := nextDrainStep(r, due); !changed && !done {
				t.Errorf("%v draining %v: due at +%v, but does not move on then", step, draining, due.Sub(t0))
			}
			if due.After(t0) {
				if _, changed, done := nextDrainStep(r, due.Add(-time.Nanosecond)); changed || done {
					t.Errorf("%v draining %v: due at +%v, but moves on before", step, draining, due.Sub(t0))
				}
			}
		}
	}
}
