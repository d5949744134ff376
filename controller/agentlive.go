package controller

import (
	"sync"
	"time"

	"github.com/anyctl/anyctl/controller/store"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// refusalLogEvery bounds how often refusals of a second agent for one PoP
// are logged and recorded for `anyctl status`.
const refusalLogEvery = 10 * time.Second

// refusalRecordTTL is how long `anyctl status` shows the last refused
// second agent of a PoP.
const refusalRecordTTL = 15 * time.Minute

// liveAgents records the one live Agent stream of each PoP on this
// controller, so that a second agent for a PoP is refused rather than
// having the PoP's status flip between two agents' reports. Across
// replicas, the claim in etcd (store.ClaimAgent) does the same.
type liveAgents struct {
	mu       sync.Mutex // guards byPop, refusals and nextID
	byPop    map[string]*liveAgent
	refusals map[string]*refusalLog
	nextID   uint64
}

type liveAgent struct {
	id    uint64
	addr  string
	since time.Time
	// instance names the agent's run (its hello's); end ends its stream.
	instance string
	end      func()
}

// refusalLog rate-limits the logging of one PoP's refusals.
type refusalLog struct {
	last       time.Time // when a refusal was last logged
	suppressed int       // refusals not logged since
}

// claim registers the stream from addr as pop's live agent and returns a
// release func, or returns the live agent that holds the PoP. A stream of
// the same agent instance as the live one (instance, not empty) is that
// agent back on a new stream, the old one lost to it (say a connection
// that broke without the server noticing): it ends the old stream (end)
// and takes its place.
func (l *liveAgents) claim(pop, addr, instance string, now time.Time, end func()) (release func(), live *store.AgentClaim) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, ok := l.byPop[pop]; ok {
		if instance == "" || cur.instance != instance {
			return nil, &store.AgentClaim{Addr: cur.addr, Since: cur.since}
		}
		cur.end()
	}
	if l.byPop == nil {
		l.byPop = map[string]*liveAgent{}
	}
	l.nextID++
	id := l.nextID
	l.byPop[pop] = &liveAgent{id: id, addr: addr, since: now, instance: instance, end: end}
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if cur, ok := l.byPop[pop]; ok && cur.id == id {
			delete(l.byPop, pop)
		}
	}, nil
}

// noteRefusal counts a refusal for pop and says whether to log (and
// record) it now, with how many were not since the last that was.
func (l *liveAgents) noteRefusal(pop string, now time.Time) (logIt bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.refusals == nil {
		l.refusals = map[string]*refusalLog{}
	}
	r, ok := l.refusals[pop]
	if !ok {
		r = &refusalLog{}
		l.refusals[pop] = r
	}
	if now.Sub(r.last) < refusalLogEvery {
		r.suppressed++
		return false, 0
	}
	suppressed, r.suppressed, r.last = r.suppressed, 0, now
	return true, suppressed
}

// secondAgentError is what a second agent for pop is told.
func secondAgentError(pop string, live *store.AgentClaim) error {
	through := ""
	if live.Controller != "" {
		through = ", through controller " + live.Controller
	}
	return status.Errorf(codes.FailedPrecondition,
		"PoP %q already has a live agent (from %s, connected at %s%s); stop it first, or give this agent another PoP",
		pop, live.Addr, live.Since.UTC().Format(time.RFC3339), through)
}
