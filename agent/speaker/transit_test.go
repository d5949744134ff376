package speaker_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/anyctl/anyctl/agent/speaker"
	"github.com/anyctl/anyctl/agent/speaker/speakertest"
	"github.com/anyctl/anyctl/agent/speaker/upstream"
)

// transit is one of two transit routers of different ASes that the
// speaker peers with over IPv4, carrying IPv4 and IPv6, each originating
// prefixes of its own with a routable next hop, as a transit does.
type transit struct {
	r      *speakertest.Router
	peer   speaker.Peer
	routes []netip.Prefix
}

func startUpstream(t *testing.T, asn uint32, listen string, v4, v6 string) transit {
	t.Helper()
	both := upstream.WithFamilies(speaker.IPv4Unicast, speaker.IPv6Unicast)
	r := speakertest.StartRouter(t, asn, speakertest.ListenOn(addr(listen)))
	r.AddNeighbor(t, loopback4, localASN, both)
	p := r.Peer()
	p.Families = []speaker.Family{speaker.IPv4Unicast, speaker.IPv6Unicast}
	p.Export.NextHopIPv6 = addr("2001:db8:ffff::1")
	u := transit{r: r, peer: p, routes: []netip.Prefix{pfx(v4), pfx(v6)}}
	r.Originate(t, pfx(v4), addr("198.18.7.1"))
	r.Originate(t, pfx(v6), addr("2001:db8:7::1"))
	return u
}

// assertNoTransit checks that neither upstream holds anything from the
// speaker but the speaker's own prefixes. It first announces marker, a new
// prefix, and waits for it at both: UPDATEs on a session arrive in order,
// so a route passed on before it would be there by then.
func assertNoTransit(t *testing.T, s *speaker.Speaker, own []speaker.Announcement, marker speaker.Announcement, ups ...transit) {
	t.Helper()
	set(t, s, append(own, marker)...)
	allowed := map[netip.Prefix]bool{marker.Prefix: true}
	for _, a := range own {
		allowed[a.Prefix] = true
	}
	for _, u := range ups {
		u.r.AwaitRoute(t, marker.Prefix, nil)
	}
	for _, u := range ups {
		for _, f := range []speaker.Family{speaker.IPv4Unicast, speaker.IPv6Unicast} {
			for p, route := range u.r.RoutesFrom(t, loopback4, f) {
				if !allowed[p] {
					t.Errorf("AS%d received %s from the speaker: the PoP passed on a route it learned (transit)", u.r.ASN(), route)
				}
			}
		}
	}
}

// TestNeverATransit peers with two transits of different ASes, each
// originating IPv4 and IPv6 prefixes, and checks that the speaker passes
// none of them to the other, at first, after a reconnect and after a
// change of the peer set; and that it kept none of them.
func TestNeverATransit(t *testing.T) {
	a := startUpstream(t, 64496, "127.0.0.20", "10.99.0.0/16", "2001:db8:99::/48")
	b := startUpstream(t, 64497, "127.0.0.21", "10.98.0.0/16", "2001:db8:98::/48")
	s := startSpeaker(t, a.peer, b.peer)
	own := []speaker.Announcement{{Prefix: pfx("198.51.100.0/24")}, {Prefix: pfx("2001:db8:53::/48")}}
	set(t, s, own...)
	for _, u := range []transit{a, b} {
		speakertest.Await(t, "the speaker to receive AS"+u.peer.Address.String()+"'s routes", func() bool {
			return peerState(t, s, u.peer.Address).PrefixesReceived == len(u.routes)
		}, func() string { return "not yet" })
	}
	assertNoTransit(t, s, own, speaker.Announcement{Prefix: pfx("198.51.100.0/25")}, a, b)

	// A reconnect: b's session goes and comes back.
	if err := s.SetPeers(context.Background(), []speaker.Peer{a.peer}); err != nil {
		t.Fatalf("SetPeers without b: %v", err)
	}
	b.r.AwaitDown(t, loopback4)
	if err := s.SetPeers(context.Background(), []speaker.Peer{a.peer, b.peer}); err != nil {
		t.Fatalf("SetPeers with b again: %v", err)
	}
	b.r.AwaitEstablished(t, loopback4)
	assertNoTransit(t, s, own, speaker.Announcement{Prefix: pfx("198.51.100.128/25")}, a, b)

	// A change of export on a: the policy is rebuilt.
	changed := a.peer
	changed.Export.Communities = []uint32{64496<<16 | 1}
	if err := s.SetPeers(context.Background(), []speaker.Peer{changed, b.peer}); err != nil {
		t.Fatalf("SetPeers with a new export for a: %v", err)
	}
	assertNoTransit(t, s, own, speaker.Announcement{Prefix: pfx("198.51.100.64/26")}, a, b)

	for _, p := range append(a.routes, b.routes...) {
		for _, ann := range s.Announced() {
			if ann.Prefix == p {
				t.Errorf("the speaker holds learned prefix %s among its announcements", p)
			}
		}
	}
}

// TestInboundPrefixCap closes the session of a neighbour that sends more
// prefixes than its cap, and says why.
func TestInboundPrefixCap(t *testing.T) {
	r, p := peeredRouter(t, addr("127.0.0.22"), loopback4)
	p.MaxPrefixesIn = 3
	for _, s := range []string{"10.97.0.0/24", "10.97.1.0/24", "10.97.2.0/24", "10.97.3.0/24"} {
		r.Originate(t, pfx(s), addr("198.18.7.1"))
	}
	s := startSpeaker(t, p)
	var last speaker.PeerState
	speakertest.Await(t, "the session to be closed for the inbound cap", func() bool {
		last = peerState(t, s, p.Address)
		return r.LastNotification() != "" && last.LastProblem.Text != ""
	}, func() string { return last.State + ": " + last.LastProblem.Text })
	if got := r.LastNotification(); got[:4] != "6/1 " {
		t.Errorf("router received NOTIFICATION %q, want Cease/1 (maximum number of prefixes reached)", got)
	}
}
