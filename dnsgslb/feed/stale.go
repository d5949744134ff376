package feed

import (
	"time"

	"github.com/anyctl/anyctl/controlconn"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// stale is one stream's staleness watch, and whether the replica was
// found not to confirm.
type stale struct {
	*controlconn.Staleness
	// older is set when the replica's first response said nothing of
	// confirming.
	older bool
}

// freshness takes a response's confirmation: it tells Config.Confirmed,
// and moves the stream's deadline (controlconn.Staleness).
func (c *client) freshness(s *stale, msg *v1.SubscribeResponse, target controlconn.Target) {
	f := msg.GetFreshness()
	if f == nil {
		if !s.Confirms() && !s.older && (msg.GetSnapshot() != nil || msg.GetCurrent() != nil) {
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
	at := s.Take(f.GetInterval().AsDuration(), f.GetConfirmed(), f.GetAge().AsDuration())
	if !at.IsZero() && c.cfg.Confirmed != nil {
		c.cfg.Confirmed(at)
	}
}
