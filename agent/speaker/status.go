package speaker

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	api "github.com/osrg/gobgp/v3/api"
)

// PeerState is one neighbour's session as the speaker sees it.
type PeerState struct {
	Address netip.Addr
	ASN     uint32
	// State is the BGP FSM state: "idle", "connect", "active", "opensent",
	// "openconfirm" or "established".
	State string
	// Since is when the session became established; zero when it is not.
	Since time.Time
	// PrefixesSent counts the adj-RIB-out: prefixes announced on the session.
	PrefixesSent int
	// PrefixesReceived counts the prefixes the neighbour sent; the speaker
	// keeps none of them.
	PrefixesReceived int
	// LastProblem is the last thing that went wrong with the session.
	LastProblem Problem
}

// Established reports whether the session is up.
func (p PeerState) Established() bool { return p.State == "established" }

// PeerStatus reports every configured neighbour, in address order.
func (s *Speaker) PeerStatus(ctx context.Context) ([]PeerState, error) {
	select {
	case <-s.done:
		return nil, ErrStopped
	default:
	}
	var out []PeerState
	var bad error
	err := s.bgp.ListPeer(ctx, &api.ListPeerRequest{EnableAdvertised: true}, func(p *api.Peer) {
		addr, err := netip.ParseAddr(p.GetConf().GetNeighborAddress())
		if err != nil {
			bad = fmt.Errorf("speaker: GoBGP reported neighbour address %q: %w", p.GetConf().GetNeighborAddress(), err)
			return
		}
		st := PeerState{
			Address: addr,
			ASN:     p.GetConf().GetPeerAsn(),
			State:   stateName(p.GetState().GetSessionState()),
		}
		if st.Established() {
			st.Since = s.sessions.since(addr)
			if st.Since.IsZero() {
				// The watcher has not seen the event yet; GoBGP's own
				// uptime has whole seconds.
				st.Since = p.GetTimers().GetState().GetUptime().AsTime()
			}
		}
		st.LastProblem = s.sessions.problem(addr)
		for _, af := range p.GetAfiSafis() {
			st.PrefixesSent += int(af.GetState().GetAdvertised())
			st.PrefixesReceived += int(af.GetState().GetReceived())
		}
		out = append(out, st)
	})
	if err != nil {
		return nil, fmt.Errorf("speaker: listing neighbours: %w", err)
	}
	if bad != nil {
		return nil, bad
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("speaker: listing neighbours: %w", err)
	}
	out = append(out, *s.waiting.Load()...)
	slices.SortFunc(out, func(a, b PeerState) int { return a.Address.Compare(b.Address) })
	return out, nil
}
