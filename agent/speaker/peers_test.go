package speaker_test

import (
	"context"
	"testing"
	"time"

	"github.com/anyctl/anyctl/agent/speaker"
	"github.com/anyctl/anyctl/agent/speaker/speakertest"
)

// TestSetPeersKeepsUnchangedSessions adds a second upstream, retunes it, then
// removes the first, and checks that no remaining session ever resets.
func TestSetPeersKeepsUnchangedSessions(t *testing.T) {
	r1, p1 := peeredRouter(t, addr("127.0.0.7"), loopback4)
	r2, p2 := peeredRouter(t, addr("127.0.0.8"), loopback4)
	s := startSpeaker(t, p1)
	ann := speaker.Announcement{Prefix: pfx("203.0.113.0/24")}
	set(t, s, ann)
	r1.AwaitRoute(t, ann.Prefix, nil)

	// The same peer again, written differently (defaults spelled out).
	same := p1
	same.HoldTime = 90 * time.Second
	same.Families = []speaker.Family{speaker.IPv4Unicast}
	if err := s.SetPeers(context.Background(), []speaker.Peer{p2, same}); err != nil {
		t.Fatalf("SetPeers adding a second peer: %v", err)
	}
	r2.AwaitRoute(t, ann.Prefix, nil)
	if n := r1.SessionsEstablished(loopback4); n != 1 {
		t.Errorf("first router saw its session come up %d times, want 1", n)
	}

	// A new hold time and cap update the neighbour without a new OPEN.
	tuned := p2
	tuned.HoldTime = 30 * time.Second
	tuned.MaxPrefixes = 100
	if err := s.SetPeers(context.Background(), []speaker.Peer{p1, tuned}); err != nil {
		t.Fatalf("SetPeers changing hold time and cap: %v", err)
	}
	// Barrier: a change announced after the update reaches the router.
	marked := ann
	marked.MED = ptr(uint32(1))
	set(t, s, marked)
	r2.AwaitRoute(t, ann.Prefix, func(rt speakertest.Route) bool { return rt.MED != nil })

	if err := s.SetPeers(context.Background(), []speaker.Peer{tuned}); err != nil {
		t.Fatalf("SetPeers removing the first peer: %v", err)
	}
	r1.AwaitDown(t, loopback4)
	r1.AwaitNoRoute(t, ann.Prefix)
	if n := r2.SessionsEstablished(loopback4); n != 1 || !r2.Established(loopback4) {
		t.Errorf("second router: session came up %d times, established %v; want once and up", n, r2.Established(loopback4))
	}
	states, err := s.PeerStatus(context.Background())
	if err != nil {
		t.Fatalf("PeerStatus: %v", err)
	}
	if len(states) != 1 || states[0].Address != p2.Address {
		t.Errorf("PeerStatus = %+v, want only %s", states, p2.Address)
	}
}

// TestPeerStatus reports an established session with its adj-RIB-out count.
func TestPeerStatus(t *testing.T) {
	r, p := peeredRouter(t, addr("127.0.0.9"), loopback4)
	s := startSpeaker(t, p)
	set(t, s,
		speaker.Announcement{Prefix: pfx("203.0.113.0/24")},
		speaker.Announcement{Prefix: pfx("198.51.100.0/24")},
		speaker.Announcement{Prefix: pfx("2001:db8::/48")}, // not negotiated with this peer
	)
	r.AwaitCount(t, speaker.IPv4Unicast, 2)
	st := peerState(t, s, p.Address)
	if !st.Established() || st.ASN != routerASN || st.Since.IsZero() {
		t.Errorf("PeerStatus = %+v, want established with AS%d and a start time", st, routerASN)
	}
	if st.PrefixesSent != 2 || st.PrefixesReceived != 0 {
		t.Errorf("PeerStatus sent %d, received %d; want 2 and 0", st.PrefixesSent, st.PrefixesReceived)
	}
}
