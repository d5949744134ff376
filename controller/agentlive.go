package controller

import (
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// refusalLogEvery bounds how often refusals of a second agent for one PoP
// are logged.
const refusalLogEvery = 10 * time.Second

// liveAgents records, per controller, the one live Agent stream of each
// PoP, so that a second agent for a PoP is refused rather than having the
// PoP's status flip between two agents' reports. It is per controller
// process: an agent connected to another controller replica is not seen.
type liveAgents struct {
	mu     sync.Mutex // guards byPop
	byPop  map[string]*liveAgent
	nextID uint64 // guarded by mu
}

type liveAgent struct {
	id          uint64
	addr        string
	since       time.Time
	lastLog     time.Time // when a refusal for this PoP was last logged
	suppressedN int       // refusals not logged since lastLog
}

// claim registers the stream from addr as pop's live agent. It returns a
// release func, or a FailedPrecondition error naming the live agent, and
// whether the refusal should be logged now (with how many were not).
func (l *liveAgents) claim(pop, addr string, now time.Time) (release func(), logIt bool, suppressed int, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, ok := l.byPop[pop]; ok {
		err := status.Errorf(codes.FailedPrecondition,
			"PoP %q already has a live agent (from %s, connected at %s); stop it first, or give this agent another PoP",
			pop, cur.addr, cur.since.UTC().Format(time.RFC3339))
		if now.Sub(cur.lastLog) >= refusalLogEvery {
			suppressed, cur.suppressedN, cur.lastLog = cur.suppressedN, 0, now
			return nil, true, suppressed, err
		}
		cur.suppressedN++
		return nil, false, 0, err
	}
	if l.byPop == nil {
		l.byPop = map[string]*liveAgent{}
	}
	l.nextID++
	id := l.nextID
	l.byPop[pop] = &liveAgent{id: id, addr: addr, since: now}
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if cur, ok := l.byPop[pop]; ok && cur.id == id {
			delete(l.byPop, pop)
		}
	}, false, 0, nil
}
