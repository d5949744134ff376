package speaker

import (
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	api "github.com/osrg/gobgp/v3/api"
)

// sessionTable follows GoBGP's session state changes: it logs them and
// records since when each session is established.
type sessionTable struct {
	log *slog.Logger
	mu  sync.Mutex // guards up and problems
	// up maps a neighbour to the time its session became established;
	// a neighbour whose session is not established is absent.
	up map[netip.Addr]time.Time
	// problems is the last thing that went wrong with each session.
	problems map[netip.Addr]Problem
}

// Problem is the last thing that went wrong with a session: a failed
// connection attempt, a NOTIFICATION sent or received, the session going
// down.
type Problem struct {
	Text string
	At   time.Time
}

func newSessionTable(log *slog.Logger) *sessionTable {
	return &sessionTable{log: log, up: map[netip.Addr]time.Time{}, problems: map[netip.Addr]Problem{}}
}

// noteProblem records why addr's session is not up; the first of a kind
// in a row is logged.
func (t *sessionTable) noteProblem(addr netip.Addr, text string) {
	t.mu.Lock()
	prev := t.problems[addr]
	t.problems[addr] = Problem{Text: text, At: time.Now()}
	t.mu.Unlock()
	if prev.Text != text {
		t.log.Warn("bgp session problem", "peer", addr, "reason", text)
	}
}

// problem is the last problem of addr's session, zero when none.
func (t *sessionTable) problem(addr netip.Addr) Problem {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.problems[addr]
}

// observe is GoBGP's watch callback; GoBGP calls it from one goroutine, in
// event order.
func (t *sessionTable) observe(r *api.WatchEventResponse) {
	ev := r.GetPeer()
	if ev.GetType() != api.WatchEventResponse_PeerEvent_STATE {
		return
	}
	st := ev.GetPeer().GetState()
	addr, err := netip.ParseAddr(st.GetNeighborAddress())
	if err != nil {
		return
	}
	state := stateName(st.GetSessionState())
	now := time.Now()
	t.mu.Lock()
	_, wasUp := t.up[addr]
	isUp := st.GetSessionState() == api.PeerState_ESTABLISHED
	switch {
	case isUp && !wasUp:
		t.up[addr] = now
	case !isUp:
		delete(t.up, addr)
	}
	t.mu.Unlock()
	switch {
	case isUp && !wasUp:
		t.log.Info("bgp session established", "peer", addr, "asn", st.GetPeerAsn())
	case wasUp && !isUp:
		t.log.Warn("bgp session down", "peer", addr, "asn", st.GetPeerAsn(), "state", state)
	}
}

// anyUp reports whether any session is established.
func (t *sessionTable) anyUp() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.up) > 0
}

// since is when addr's session became established, or zero.
func (t *sessionTable) since(addr netip.Addr) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.up[addr]
}

// stateName is the lower-case FSM state ("established", "active", ...).
func stateName(s api.PeerState_SessionState) string {
	return strings.ToLower(s.String())
}
