// Go listens with MPTCP by default since 1.24, and Linux refuses TCP MD5
// keys on MPTCP sockets, so GoBGP's listeners could not check passwords.

//go:debug multipathtcp=0
package speaker_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/anyctl/anyctl/agent/speaker"
	"github.com/anyctl/anyctl/agent/speaker/speakertest"
	"github.com/anyctl/anyctl/agent/speaker/upstream"
)

const (
	localASN  = 64512
	routerASN = 65001
)

var (
	loopback4 = netip.MustParseAddr("127.0.0.1")
	loopback6 = netip.MustParseAddr("::1")
)

// Tests that start GoBGP servers do not run in parallel: GoBGP v3.37.0's
// StartBgp writes package-level route selection options that every running
// server reads (osrg/gobgp#3659, fixed after that release), so starting a
// server while another one computes best paths is a data race.

// startSpeaker starts a speaker that does not listen, in AS localASN, and
// stops it when the test ends.
func startSpeaker(t testing.TB, peers ...speaker.Peer) *speaker.Speaker {
	t.Helper()
	s, err := speaker.Start(context.Background(), speaker.Config{
		ASN:        localASN,
		RouterID:   netip.MustParseAddr("192.0.2.254"),
		ListenPort: -1,
		Peers:      peers,
	})
	if err != nil {
		t.Fatalf("starting speaker: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Stop(ctx, "test over"); err != nil {
			t.Errorf("stopping speaker: %v", err)
		}
	})
	return s
}

// peeredRouter starts a router on addr that accepts the speaker from
// neighbor, and the Peer that dials it.
func peeredRouter(t testing.TB, addr, neighbor netip.Addr, opts ...upstream.NeighborOption) (*speakertest.Router, speaker.Peer) {
	t.Helper()
	r := speakertest.StartRouter(t, routerASN, speakertest.ListenOn(addr))
	r.AddNeighbor(t, neighbor, localASN, opts...)
	return r, r.Peer()
}

func set(t testing.TB, s *speaker.Speaker, anns ...speaker.Announcement) {
	t.Helper()
	if anns == nil {
		anns = []speaker.Announcement{}
	}
	if err := s.SetAnnouncements(context.Background(), anns); err != nil {
		t.Fatalf("SetAnnouncements: %v", err)
	}
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func ptr[T any](v T) *T { return &v }

// peerState is the speaker's view of the session with a.
func peerState(t testing.TB, s *speaker.Speaker, a netip.Addr) speaker.PeerState {
	t.Helper()
	states, err := s.PeerStatus(context.Background())
	if err != nil {
		t.Fatalf("PeerStatus: %v", err)
	}
	for _, st := range states {
		if st.Address == a {
			return st
		}
	}
	t.Fatalf("PeerStatus: no neighbour %s in %+v", a, states)
	return speaker.PeerState{}
}
