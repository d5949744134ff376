package controlconn

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrStale ends a stream whose controller replica stopped confirming that
// its state is current: it keeps the stream open, but its view of etcd
// is no longer known to advance.
var ErrStale = errors.New("the replica has not confirmed that its state is current")

// DefaultStaleAfter is how long a stream may go without a confirmation,
// by default: four of a default replica's intervals (5 s).
const DefaultStaleAfter = 20 * time.Second

// Staleness ends one stream, through its context, when its replica goes
// without confirming its state (the FeedFreshness of the GSLB feed and
// the agent stream) for the stream's limit: Config's StaleAfter, or three
// of the replica's intervals when longer. Until the replica first says it
// confirms, it is not held to it: a controller from before confirmations
// never says so. With a Patience (Patient), the limit grows while no
// replica confirms, but not for a replica that says, after its first
// response, that it cannot confirm (an unconfirmed FeedFreshness: etcd
// does not answer it, as when it is cut off from etcd): it is left the
// limit after it said so, unless it confirms again. Only the stream's
// receiving goroutine calls it.
type Staleness struct {
	start      time.Time
	staleAfter time.Duration
	flag       string
	cancel     context.CancelCauseFunc
	// limit is 0 until the replica says it confirms.
	limit time.Duration
	// patience is the client's across its streams (nil: none); replicas
	// is how many it moves between; patient is this stream's limit while
	// the client finds no replica confirming (0 until the first Take).
	patience *Patience
	replicas int
	patient  time.Duration
	// confirmed is the last confirmation on this host's clock; zero
	// before the first.
	confirmed time.Time
	// silentAt is when, on this host's clock, the replica said it
	// cannot confirm; zero while it does not say so.
	silentAt time.Time
	timer    *time.Timer
}

// NewStaleness watches a stream that started now, ending it with cancel
// (the cause wraps ErrStale); flag names the setting of staleAfter in
// the cause.
func NewStaleness(staleAfter time.Duration, flag string, cancel context.CancelCauseFunc) *Staleness {
	return &Staleness{start: time.Now(), staleAfter: staleAfter, flag: flag, cancel: cancel}
}

// Patient makes the stream's limit grow while the client, moving between
// replicas replicas, finds none that confirms (Patience); it returns s.
func (s *Staleness) Patient(p *Patience, replicas int) *Staleness {
	s.patience, s.replicas = p, replicas
	return s
}

// Confirms reports whether the replica has said it confirms.
func (s *Staleness) Confirms() bool { return s.limit > 0 }

// Take takes a response's freshness: the replica's interval, and when
// confirmed, the confirmation's age when sent. It returns the
// confirmation's time on this host's clock (received less its age, so
// that clocks that disagree do not matter), zero when there is none.
func (s *Staleness) Take(interval time.Duration, confirmed bool, age time.Duration) time.Time {
	now := time.Now()
	if s.limit == 0 {
		s.limit = max(s.staleAfter, 3*interval)
		s.patient = s.patience.limit(s.limit, s.replicas)
	} else {
		// After the first response, one without a confirmation says
		// the replica cannot confirm.
		if !confirmed && s.silentAt.IsZero() {
			s.silentAt = now
		} else if confirmed {
			s.silentAt = time.Time{}
		}
	}
	var at time.Time
	if confirmed {
		at = now.Add(-max(age, 0))
		if at.After(s.confirmed) {
			s.confirmed = at
		}
		s.patience.confirmed(at, s.limit)
	}
	s.arm()
	return at
}

// arm sets the timer that ends the stream: its limit after the last
// confirmation (after its start, before the first).
func (s *Staleness) arm() {
	if s.timer != nil {
		s.timer.Stop()
	}
	if s.limit == 0 {
		return
	}
	from, limit, waiting := s.start, s.limit, ""
	switch {
	case s.patience.streak():
		// No replica confirmed since the client last moved: this one
		// gets its (longer) limit from the stream's start, not from an
		// old confirmation it sent first.
		limit = s.patient
		if s.confirmed.After(s.start) {
			from = s.confirmed
		}
		if limit > s.limit {
			waiting = fmt.Sprintf(", waited %s as no replica confirmed more recently", limit.Round(time.Millisecond))
		}
	case !s.confirmed.IsZero():
		from = s.confirmed
	}
	if !s.silentAt.IsZero() && s.silentAt.Add(s.limit).Before(from.Add(limit)) {
		// It cannot confirm: waiting longer for it, however long the
		// client waits on replicas while none confirms, is waiting for
		// a replica cut off from etcd. It gets the limit from when it
		// said so, as a confirming replica gets it from its last
		// confirmation: etcd that stalls for a moment makes every
		// replica say so at once, and clients that left at once would
		// all move together, the storm waiting longer avoids.
		from, limit = s.silentAt, s.limit
		waiting = ", and the replica says etcd does not answer it"
	}
	last, flag, p, base := s.confirmed, s.flag, s.patience, s.limit
	fire := func() {
		p.moved()
		if last.IsZero() {
			s.cancel(fmt.Errorf("%w: not once in the %s since the stream began (%s %s%s); moving to another replica", ErrStale, limit.Round(time.Millisecond), flag, base, waiting))
			return
		}
		s.cancel(fmt.Errorf("%w: its last confirmation is %s old (%s %s%s); moving to another replica", ErrStale, time.Since(last).Round(time.Millisecond), flag, base, waiting))
	}
	s.timer = time.AfterFunc(max(time.Until(from.Add(limit)), 0), fire)
}

// Stop stops watching.
func (s *Staleness) Stop() {
	if s.timer != nil {
		s.timer.Stop()
	}
}
