package feed

import (
	"context"
	"fmt"
	"time"

	"github.com/anyctl/anyctl/controlconn"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// stale ends one stream when its replica goes without confirming its
// state for the stream's limit. Until the replica says it confirms (the
// first FeedFreshness), it is not held to it: an older controller never
// says so.
type stale struct {
	start  time.Time
	cancel context.CancelCauseFunc
	// limit is Config.StaleAfter, or three of the replica's intervals
	// when longer; 0 until the replica says it confirms.
	limit time.Duration
	// confirmed is the last confirmation on this host's clock; zero
	// before the first.
	confirmed time.Time
	timer     *time.Timer
	// older is set when the replica's first response said nothing of
	// confirming.
	older bool
}

func (c *client) staleness(start time.Time, cancel context.CancelCauseFunc) *stale {
	return &stale{start: start, cancel: cancel}
}

func (s *stale) stop() {
	if s.timer != nil {
		s.timer.Stop()
	}
}

// freshness takes a response's confirmation: it tells Config.Confirmed,
// and moves the stream's deadline to the confirmation's time plus the
// limit (the stream's start, before the first).
func (c *client) freshness(s *stale, msg *v1.SubscribeResponse, target controlconn.Target) {
	f := msg.GetFreshness()
	if f == nil {
		if s.limit == 0 && !s.older && msg.GetSnapshot() != nil {
			// An older controller: its first response has a snapshot
			// and says nothing of confirming.
			s.older = true
			c.log.Info("gslb feed: the replica does not confirm that its state is current (an older controller); only a broken stream moves the feed from it", "replica", target.String())
			if c.cfg.Confirmed != nil {
				c.cfg.Confirmed(time.Time{})
			}
		}
		return
	}
	now := time.Now()
	if s.limit == 0 {
		s.limit = max(c.cfg.StaleAfter, 3*f.GetInterval().AsDuration())
	}
	from := s.start
	if f.GetConfirmed() {
		at := now.Add(-max(f.GetAge().AsDuration(), 0))
		if at.After(s.confirmed) {
			s.confirmed = at
			if c.cfg.Confirmed != nil {
				c.cfg.Confirmed(at)
			}
		}
	}
	if !s.confirmed.IsZero() {
		from = s.confirmed
	}
	wait := time.Until(from.Add(s.limit))
	limit, confirmed := s.limit, s.confirmed
	fire := func() {
		if confirmed.IsZero() {
			s.cancel(fmt.Errorf("%w: not once in the %s since the feed subscribed (--feed-stale-after); moving to another replica", errStale, limit))
			return
		}
		s.cancel(fmt.Errorf("%w: its last confirmation is %s old (--feed-stale-after %s); moving to another replica", errStale, time.Since(confirmed).Round(time.Millisecond), limit))
	}
	if s.timer != nil {
		s.timer.Stop()
	}
	s.timer = time.AfterFunc(max(wait, 0), fire)
}
