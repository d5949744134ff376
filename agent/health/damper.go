package health

import "time"

// Damping defaults for the zero values of a DampConfig.
const (
	// DefaultHoldDownGrowth is HoldDownMax as a multiple of HoldDown: three
	// doublings.
	DefaultHoldDownGrowth = 8
	DefaultFlapWindow     = 5 * time.Minute
)

// maxPenalty bounds the flap count so that doubling cannot overflow.
const maxPenalty = 30

// DampConfig tunes a Damper.
//
// A withdrawal is a flap when it comes less than FlapWindow after the
// previous re-announcement, that is when the service did not stay up for a
// whole FlapWindow. Each flap doubles the hold-down (HoldDown, 2×, 4×, ...,
// capped at HoldDownMax). Stability earns it back: each whole FlapWindow the
// service stays announced halves it again (one doubling fewer). Time spent
// withdrawn does not count as stable.
type DampConfig struct {
	// Rise consecutive successes make a down service up; Fall consecutive
	// failures make an up service down. Values below 1 mean 1.
	Rise, Fall int
	// HoldDown is the least time from a withdrawal to the re-announcement.
	// Zero turns damping off.
	HoldDown time.Duration
	// HoldDownMax caps the grown hold-down; zero means
	// DefaultHoldDownGrowth × HoldDown.
	HoldDownMax time.Duration
	// FlapWindow is how long a re-announced service must stay up for its
	// next withdrawal not to count as a flap; zero means DefaultFlapWindow.
	FlapWindow time.Duration
	// StartUp starts the Damper announced, for a check that replaces one
	// whose service was up: the first decision can only be a withdrawal,
	// after Fall failures, and it counts as no flap.
	StartUp bool
}

func (c DampConfig) withDefaults() DampConfig {
	c.Rise = max(c.Rise, 1)
	c.Fall = max(c.Fall, 1)
	c.HoldDown = max(c.HoldDown, 0)
	if c.HoldDownMax == 0 {
		c.HoldDownMax = DefaultHoldDownGrowth * c.HoldDown
	}
	c.HoldDownMax = max(c.HoldDownMax, c.HoldDown)
	if c.FlapWindow == 0 {
		c.FlapWindow = DefaultFlapWindow
	}
	c.FlapWindow = max(c.FlapWindow, 0)
	return c
}

// Damper decides whether one service is announced, from its check results.
// It is a pure state machine: every method takes the time, nothing runs in
// the background, and it is not safe for concurrent use.
//
// It starts down (up with StartUp) and comes up after Rise consecutive
// successes, with no hold-down the first time. Once up, Fall consecutive failures withdraw it at
// once. It comes back after Rise consecutive successes and once the hold-down
// since the withdrawal has passed; when the successes arrive first, the
// caller must call Advance at NextDeadline to notice the expiry.
type Damper struct {
	cfg DampConfig

	up    bool
	since time.Time // when up last changed, or when the Damper was made

	observed uint64 // results seen
	lastOK   bool
	streak   int // identical consecutive results, ending with lastOK

	withdrawals uint64
	penalty     int       // flaps counted at since, before decay while up
	holdUntil   time.Time // earliest re-announcement after the last withdrawal
}

// NewDamper returns a Damper that is down, or up with cfg.StartUp, and not
// held down.
func NewDamper(cfg DampConfig, now time.Time) *Damper {
	cfg = cfg.withDefaults()
	return &Damper{cfg: cfg, up: cfg.StartUp, since: now}
}

// Observe records one result and reports whether Up changed.
func (d *Damper) Observe(ok bool, now time.Time) (changed bool) {
	if d.observed > 0 && ok == d.lastOK {
		d.streak++
	} else {
		d.lastOK, d.streak = ok, 1
	}
	d.observed++
	return d.Advance(now)
}

// Advance applies the passage of time without a new result (a hold-down
// that expired) and reports whether Up changed.
func (d *Damper) Advance(now time.Time) (changed bool) {
	switch {
	case d.observed == 0:
		return false
	case d.up && !d.lastOK && d.streak >= d.cfg.Fall:
		d.withdraw(now)
		return true
	case !d.up && d.lastOK && d.streak >= d.cfg.Rise && !now.Before(d.holdUntil):
		d.up, d.since = true, now
		return true
	}
	return false
}

func (d *Damper) withdraw(now time.Time) {
	penalty := d.flaps(now)
	if d.withdrawals > 0 && now.Sub(d.since) < d.cfg.FlapWindow {
		penalty = min(penalty+1, maxPenalty)
	}
	d.penalty = penalty
	d.withdrawals++
	d.holdUntil = now.Add(d.holdDown(penalty))
	d.up, d.since = false, now
}

// flaps is the penalty after the decay earned by staying up until now.
func (d *Damper) flaps(now time.Time) int {
	if !d.up || d.cfg.FlapWindow <= 0 {
		return d.penalty
	}
	stable := int64(now.Sub(d.since) / d.cfg.FlapWindow)
	return int(max(int64(d.penalty)-stable, 0))
}

// holdDown is HoldDown doubled once per flap, capped at HoldDownMax.
func (d *Damper) holdDown(flaps int) time.Duration {
	h := d.cfg.HoldDown
	for i := 0; i < flaps && h < d.cfg.HoldDownMax; i++ {
		h *= 2
	}
	return min(h, d.cfg.HoldDownMax)
}

// Up reports whether the service should be announced.
func (d *Damper) Up() bool { return d.up }

// HoldDownLeft is how long a re-announcement must still wait, zero when up
// or when the hold-down has passed.
func (d *Damper) HoldDownLeft(now time.Time) time.Duration {
	if d.up {
		return 0
	}
	return max(d.holdUntil.Sub(now), 0)
}

// NextDeadline is when Advance would bring the service up without a new
// result: the end of the hold-down, when enough successes are waiting for
// it. ok is false when no such moment is due.
func (d *Damper) NextDeadline() (t time.Time, ok bool) {
	if d.up || !d.lastOK || d.streak < d.cfg.Rise || d.observed == 0 {
		return time.Time{}, false
	}
	return d.holdUntil, true
}

// transitioning reports whether the last result disagrees with the state,
// so that more results of the same kind would change it.
func (d *Damper) transitioning() bool { return d.observed > 0 && d.lastOK != d.up }

// Status reports the damper's view at now. The probe fields (LastResult,
// LastDuration, LastProbe, Probes) are left for the Checker to fill.
func (d *Damper) Status(now time.Time) Status {
	return Status{
		Healthy:      d.up,
		Since:        d.since,
		Observed:     d.observed > 0,
		LastOK:       d.lastOK,
		Streak:       d.streak,
		Flaps:        d.flaps(now),
		HoldDownLeft: d.HoldDownLeft(now),
	}
}
