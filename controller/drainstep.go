package controller

import (
	"time"

	"github.com/anyctl/anyctl/compile"
	"github.com/anyctl/anyctl/controller/store"
)

// undrainSettle bounds how long each undrain step waits for routing to
// settle before the next.
const undrainSettle = 5 * time.Second

// nextDrainStep advances a drain record whose step has run its course. A
// drain walks none → gslb (out of GSLB answers for GslbWait) →
// graceful-shutdown (for Period) → withdrawn. An undrain walks back:
// withdrawn → graceful-shutdown (announced, least preferred) → gslb
// (announced normally, still out of GSLB) → none, each for a settle time.
// It reports whether the record changed and whether the drain is over.
func nextDrainStep(r store.DrainRecord, now time.Time) (next store.DrainRecord, changed, done bool) {
	in := now.Sub(r.Since)
	next = r
	step := func(s compile.DrainStep) (store.DrainRecord, bool, bool) {
		next.Step, next.Since = s, now
		return next, true, s == compile.DrainNone && !r.Draining
	}
	if r.Draining {
		switch r.Step {
		case compile.DrainNone:
			return step(compile.DrainGslb)
		case compile.DrainGslb:
			if in >= r.GslbWait {
				return step(compile.DrainGracefulShutdown)
			}
		case compile.DrainGracefulShutdown:
			if in >= r.Period {
				return step(compile.DrainWithdrawn)
			}
		}
		return r, false, false
	}
	settle := min(r.Period, undrainSettle)
	switch r.Step {
	case compile.DrainWithdrawn:
		return step(compile.DrainGracefulShutdown)
	case compile.DrainGracefulShutdown:
		if in >= settle {
			return step(compile.DrainGslb)
		}
	case compile.DrainGslb:
		if in >= settle {
			return step(compile.DrainNone)
		}
	case compile.DrainNone:
		return r, false, true
	}
	return r, false, false
}

// drainDue returns when nextDrainStep will next move the record on (a time
// already past when it moves at once); ok is false when the record waits
// on nothing but a new drain or undrain.
func drainDue(r store.DrainRecord) (due time.Time, ok bool) {
	if r.Draining {
		switch r.Step {
		case compile.DrainNone:
			return r.Since, true
		case compile.DrainGslb:
			return r.Since.Add(r.GslbWait), true
		case compile.DrainGracefulShutdown:
			return r.Since.Add(r.Period), true
		}
		return time.Time{}, false
	}
	switch r.Step {
	case compile.DrainGracefulShutdown, compile.DrainGslb:
		return r.Since.Add(min(r.Period, undrainSettle)), true
	}
	return r.Since, true // withdrawn moves on at once; none is done
}
