package speaker_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/agent/speaker"
	"github.com/anyctl/anyctl/agent/speaker/speakertest"
	"github.com/anyctl/anyctl/agent/speaker/upstream"
)

// TestPerPeerExport gives two neighbours different exports and checks each
// router's view: extra communities, a MED, prepends and a next hop toward
// one; only one prefix toward the other; then narrows and widens the second
// without touching the first.
func TestPerPeerExport(t *testing.T) {
	ra, pa := peeredRouter(t, addr("127.0.0.30"), loopback4)
	rb, pb := peeredRouter(t, addr("127.0.0.31"), loopback4)
	pa.Export = speaker.Export{
		Communities:      []uint32{64500<<16 | 7},
		LargeCommunities: []speaker.LargeCommunity{{Global: localASN, Local1: 9, Local2: 9}},
		MED:              ptr(uint32(50)),
		Prepend:          2,
		NextHopIPv4:      addr("198.18.0.9"),
	}
	one, two := pfx("198.51.100.0/24"), pfx("203.0.113.0/24")
	pb.Export.Only = []netip.Prefix{one}
	s := startSpeaker(t, pa, pb)
	set(t, s, speaker.Announcement{Prefix: one, Communities: []uint32{localASN<<16 | 1}, MED: ptr(uint32(10))}, speaker.Announcement{Prefix: two})

	got := ra.AwaitRoute(t, one, func(r speakertest.Route) bool { return r.MED != nil && *r.MED == 50 })
	if !got.HasCommunity(localASN<<16|1) || !got.HasCommunity(64500<<16|7) {
		t.Errorf("a got %s, want the service's community and the peer's", got)
	}
	if len(got.LargeCommunities) != 1 || got.LargeCommunities[0].Local1 != 9 {
		t.Errorf("a got large communities %v, want the peer's", got.LargeCommunities)
	}
	if n := got.CountAS(localASN); n != 3 {
		t.Errorf("a got AS path %v, want the local ASN 3 times (once, plus 2 prepends)", got.ASPath)
	}
	if got.NextHop != addr("198.18.0.9") {
		t.Errorf("a got next hop %s, want the peer's 198.18.0.9", got.NextHop)
	}
	ra.AwaitRoute(t, two, nil)
	gotB := rb.AwaitRoute(t, one, nil)
	if gotB.MED == nil || *gotB.MED != 10 || gotB.CountAS(localASN) != 1 || gotB.NextHop != loopback4 {
		t.Errorf("b got %s, want the announcement's own attributes and next hop self", gotB)
	}
	if r, ok := rb.Route(t, two); ok {
		t.Errorf("b got %s, which its export does not list", r)
	}

	// Narrow b to nothing: it loses one, a keeps both, with no reset.
	upsA := ra.SessionsEstablished(loopback4)
	pb.Export.Only = []netip.Prefix{}
	if err := s.SetPeers(context.Background(), []speaker.Peer{pa, pb}); err != nil {
		t.Fatalf("SetPeers narrowing b: %v", err)
	}
	rb.AwaitNoRoute(t, one)
	ra.AwaitRoute(t, one, nil)
	ra.AwaitRoute(t, two, nil)
	// Widen b to everything: it gets both.
	pb.Export.Only = nil
	if err := s.SetPeers(context.Background(), []speaker.Peer{pa, pb}); err != nil {
		t.Fatalf("SetPeers widening b: %v", err)
	}
	rb.AwaitRoute(t, one, nil)
	rb.AwaitRoute(t, two, nil)
	// Change a's MED: sent again in place.
	pa.Export.MED = ptr(uint32(70))
	if err := s.SetPeers(context.Background(), []speaker.Peer{pa, pb}); err != nil {
		t.Fatalf("SetPeers with a new MED for a: %v", err)
	}
	ra.AwaitRoute(t, one, func(r speakertest.Route) bool { return r.MED != nil && *r.MED == 70 })
	if n := ra.SessionsEstablished(loopback4); n != upsA {
		t.Errorf("a's session came up %d times, want %d: export changes must not reset it", n, upsA)
	}
}

// TestStopSendsAdministrativeShutdown checks that Stop closes a session
// with Cease, administrative shutdown, and the shutdown communication.
func TestStopSendsAdministrativeShutdown(t *testing.T) {
	r, p := peeredRouter(t, addr("127.0.0.32"), loopback4)
	s, err := speaker.Start(context.Background(), speaker.Config{ASN: localASN, RouterID: addr("192.0.2.254"), ListenPort: -1, Peers: []speaker.Peer{p}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	r.AwaitEstablished(t, loopback4)
	if err := s.Stop(context.Background(), "anyctl agent stopping: traffic moves away"); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	r.AwaitDown(t, loopback4)
	speakertest.Await(t, "the router to note the NOTIFICATION", func() bool { return r.LastNotification() != "" }, func() string { return "none" })
	if got, want := r.LastNotification(), "6/2 anyctl agent stopping: traffic moves away"; got != want {
		t.Errorf("router received NOTIFICATION %q, want %q (Cease, administrative shutdown, RFC 8203 message)", got, want)
	}
}

// TestWrongPasswordIsExplained peers with a router that expects another MD5
// password and checks the speaker says why the session is not up.
func TestWrongPasswordIsExplained(t *testing.T) {
	_, p := peeredRouter(t, addr("127.0.0.33"), loopback4, upstream.WithPassword("right"))
	p.Password = "wrong"
	s := startSpeaker(t, p)
	var last speaker.PeerState
	speakertest.Await(t, "a reason for the session being down", func() bool {
		last = peerState(t, s, p.Address)
		return last.LastProblem.Text != ""
	}, func() string { return last.State })
	if last.Established() || !strings.Contains(last.LastProblem.Text, "MD5 password") {
		t.Errorf("session %s, last problem %q: want it down, with the MD5 password named as a cause", last.State, last.LastProblem.Text)
	}

}
