package speakertest

import (
	"net/netip"
	"sync"

	api "github.com/osrg/gobgp/v3/api"
)

// sessionLog counts, per neighbour, how often its session came up, and
// whether it is up now.
type sessionLog struct {
	mu  sync.Mutex // guards ups and up
	ups map[netip.Addr]int
	up  map[netip.Addr]bool
}

func newSessionLog() *sessionLog {
	return &sessionLog{ups: map[netip.Addr]int{}, up: map[netip.Addr]bool{}}
}

// observe is GoBGP's watch callback, called in event order.
func (l *sessionLog) observe(r *api.WatchEventResponse) {
	ev := r.GetPeer()
	if ev.GetType() != api.WatchEventResponse_PeerEvent_STATE {
		return
	}
	st := ev.GetPeer().GetState()
	addr, err := netip.ParseAddr(st.GetNeighborAddress())
	if err != nil {
		return
	}
	isUp := st.GetSessionState() == api.PeerState_ESTABLISHED
	l.mu.Lock()
	defer l.mu.Unlock()
	if isUp && !l.up[addr] {
		l.ups[addr]++
	}
	l.up[addr] = isUp
}

// SessionsEstablished is how many times the session with neighbor has come
// up since the router started: a count that grows means the session was
// reset.
func (r *Router) SessionsEstablished(neighbor netip.Addr) int {
	r.sessions.mu.Lock()
	defer r.sessions.mu.Unlock()
	return r.sessions.ups[neighbor]
}

// Established reports whether the session with neighbor is up.
func (r *Router) Established(neighbor netip.Addr) bool {
	r.sessions.mu.Lock()
	defer r.sessions.mu.Unlock()
	return r.sessions.up[neighbor]
}
