package controller

import (
	"context"
	"math"
	"sync"
	"time"
)

// silenceWatch finds the agent streams that live but stopped reporting:
// one goroutine looks at every stream's last report time each tick. A
// timer per stream did the same, but an agent reporting every 5 s against
// a TTL of 15 s made it fire every 10 to 15 s, each firing a goroutine and
// a wake-up of an otherwise idle controller: 200 a second at 3,000 agents,
// a fifth of all it did at rest. Once a tick costs one comparison per
// stream (its next check is not due) for a few at most.
type silenceWatch struct {
	ttl  time.Duration
	tick time.Duration

	mu sync.Mutex // guards watched and each watched writer's nextCheck
	// watched are the live streams' report writers.
	watched map[*reportWriter]struct{}
}

// silenceTick is how often the watch looks: a stream's report is removed
// at most this long after the TTL without a report.
func silenceTick(ttl time.Duration) time.Duration {
	return max(min(ttl/10, time.Second), 10*time.Millisecond)
}

func newSilenceWatch(ttl time.Duration) *silenceWatch {
	return &silenceWatch{ttl: ttl, tick: silenceTick(ttl), watched: map[*reportWriter]struct{}{}}
}

// add watches w, whose last report time is set.
func (s *silenceWatch) add(w *reportWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.nextCheck = w.lastReport.Load() + int64(s.ttl)
	s.watched[w] = struct{}{}
}

// remove stops watching w.
func (s *silenceWatch) remove(w *reportWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.watched, w)
}

// run looks every tick until ctx ends, removing each silent stream's
// stored report apart, so an etcd slow to delete holds up no other check.
func (s *silenceWatch) run(ctx context.Context) {
	t := time.NewTicker(s.tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for _, w := range s.due(now) {
				go s.expire(w)
			}
		}
	}
}

// due returns the writers without a report for the TTL at now. Each is
// not due again until expire sets when next to look.
func (s *silenceWatch) due(now time.Time) []*reportWriter {
	n := now.UnixNano()
	ttl := int64(s.ttl)
	var silent []*reportWriter
	s.mu.Lock()
	defer s.mu.Unlock()
	for w := range s.watched {
		if n < w.nextCheck {
			continue
		}
		// Reports only move lastReport later: none is silent before
		// last+ttl.
		if last := w.lastReport.Load(); n-last < ttl {
			w.nextCheck = last + ttl
			continue
		}
		w.nextCheck = math.MaxInt64
		silent = append(silent, w)
	}
	return silent
}

// expire removes w's stored report and says when to look at w next: a
// TTL later, or a second when the removal failed.
func (s *silenceWatch) expire(w *reportWriter) {
	next := s.ttl
	if !w.expireSilent() {
		next = time.Second
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w.nextCheck = time.Now().Add(next).UnixNano()
}
