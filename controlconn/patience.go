package controlconn

import (
	"math/rand/v2"
	"sync"
	"time"
)

// maxPatience bounds how many times its limit a client waits on a replica
// that does not confirm, once no replica confirms.
const maxPatience = 16

// Patience is one client's memory, across its streams, of the moves it
// made for want of confirmations (ErrStale). When every replica's etcd is
// slow, none confirms; a client that left each in turn at its limit would
// take a new stream and a full state every limit, from every replica in
// turn, while etcd struggles. So once the client has been round its
// replicas without finding one that confirmed more recently than the last
// confirmation it had, it waits on each next replica twice as long as on
// the one before (jittered, up to maxPatience times the limit), counted
// from the stream's start. A confirmation more recent than any it had, and
// young enough for the limit, ends the streak: the next stale replica is
// left at the limit again, so a replica cut off from etcd is still left
// quickly. A replica that says it cannot confirm (Staleness) is left
// the limit after it says so, however long the streak: the replica the
// client streams from may be cut off from etcd just when the others
// recover, and the client, which hears from no other, would otherwise
// wait the longer time on it. The zero value is ready; a nil Patience
// never waits longer.
type Patience struct {
	mu sync.Mutex // guards the fields below
	// moves counts the moves for staleness since the last fresh
	// confirmation.
	moves int
	// best is the newest confirmation seen, on this host's clock.
	best time.Time
}

// confirmed takes a confirmation at at, for a stream whose limit is
// limit: a fresher one than any before, within the limit, ends a streak.
func (p *Patience) confirmed(at time.Time, limit time.Duration) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !at.After(p.best) {
		return
	}
	p.best = at
	if time.Since(at) < limit {
		p.moves = 0
	}
}

// moved records a move for staleness.
func (p *Patience) moved() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.moves++
}

// streak reports whether the client has moved for staleness since its
// last fresh confirmation.
func (p *Patience) streak() bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.moves > 0
}

// limit returns how long a stream may go without a confirmation, for a
// client of replicas replicas whose limit is base: base through the
// first round of moves, then doubling with each move, the extra time
// jittered (half of it plus a random share of the other half).
func (p *Patience) limit(base time.Duration, replicas int) time.Duration {
	if p == nil {
		return base
	}
	p.mu.Lock()
	doublings := p.moves - max(replicas-1, 0)
	p.mu.Unlock()
	if doublings <= 0 {
		return base
	}
	factor := time.Duration(1) << min(doublings, 4) // up to maxPatience
	factor = min(factor, maxPatience)
	extra := base * (factor - 1)
	return base + extra/2 + rand.N(extra/2+1)
}
