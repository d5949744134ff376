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
	mu  sync.Mutex // guards up
	// up maps a neighbour to the time its session became established;
	// a neighbour whose session is not established is absent.
	up map[netip.Addr]time.Time
}

func newSessionTable(log *slog.Logger) *sessionTable {
	return &sessionTable{log: log, up: map[netip.Addr]time.Time{}}
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
