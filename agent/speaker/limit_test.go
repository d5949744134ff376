package speaker_test

import (
	"context"
	"errors"
	"testing"

	"github.com/anyctl/anyctl/agent/speaker"
	"github.com/anyctl/anyctl/agent/speaker/speakertest"
)

// TestMaxPrefixesRefuses checks that a set over a peer's cap is refused whole
// and the previous set stays announced, counting only the families the peer
// negotiates.
func TestMaxPrefixesRefuses(t *testing.T) {
	r, p := peeredRouter(t, addr("127.0.0.11"), loopback4)
	p.MaxPrefixes = 2
	s := startSpeaker(t, p)
	a := speaker.Announcement{Prefix: pfx("192.0.2.0/24")}
	b := speaker.Announcement{Prefix: pfx("198.51.100.0/24")}
	c := speaker.Announcement{Prefix: pfx("203.0.113.0/24")}
	v6 := speaker.Announcement{Prefix: pfx("2001:db8::/48")}

	// An IPv6 prefix is not sent to an IPv4-only peer, so it does not count.
	set(t, s, a, b, v6)
	r.AwaitCount(t, speaker.IPv4Unicast, 2)

	err := s.SetAnnouncements(context.Background(), []speaker.Announcement{c, a, b})
	var limit *speaker.PrefixLimitError
	if !errors.As(err, &limit) {
		t.Fatalf("SetAnnouncements over the cap = %v, want a *PrefixLimitError", err)
	}
	if limit.Peer != p.Address || limit.Limit != 2 || limit.Count != 3 || len(limit.Excess) != 1 || limit.Excess[0] != c.Prefix {
		t.Errorf("PrefixLimitError = %+v, want peer %s, limit 2, count 3, excess [%s]", limit, p.Address, c.Prefix)
	}
	if got := s.Announced(); len(got) != 3 {
		t.Errorf("Announced after refusal = %v, want the previous 3", got)
	}

	// Lowering the cap below what is announced is refused too.
	lower := p
	lower.MaxPrefixes = 1
	if err := s.SetPeers(context.Background(), []speaker.Peer{lower}); !errors.As(err, &limit) {
		t.Errorf("SetPeers lowering the cap below the announced set = %v, want a *PrefixLimitError", err)
	}

	// Nothing of the refused set reached the router. Updates on a session
	// arrive in order, so once a later change to a is there, c would be too.
	marked := a
	marked.Communities = []uint32{localASN<<16 | 9}
	set(t, s, marked, b, v6)
	r.AwaitRoute(t, a.Prefix, func(rt speakertest.Route) bool { return rt.HasCommunity(localASN<<16 | 9) })
	if _, ok := r.Route(t, c.Prefix); ok {
		t.Errorf("router has %s from the refused set", c.Prefix)
	}
	if n := r.Count(t, speaker.IPv4Unicast); n != 2 {
		t.Errorf("router holds %d prefixes, want the previous 2", n)
	}
	if n := r.SessionsEstablished(loopback4); n != 1 {
		t.Errorf("router saw the session come up %d times, want 1", n)
	}
}
