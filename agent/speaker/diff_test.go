package speaker_test

import (
	"context"
	"testing"

	"github.com/anyctl/anyctl/agent/speaker"
	"github.com/anyctl/anyctl/agent/speaker/speakertest"
)

// TestSetAnnouncementsDiffs walks one session through the level-triggered
// cases and checks the router after each, and that the session never reset.
func TestSetAnnouncementsDiffs(t *testing.T) {
	r, p := peeredRouter(t, addr("127.0.0.6"), loopback4)
	s := startSpeaker(t, p)
	a := speaker.Announcement{Prefix: pfx("203.0.113.0/24"), Communities: []uint32{localASN<<16 | 1}}
	b := speaker.Announcement{Prefix: pfx("198.51.100.0/24")}
	c := speaker.Announcement{Prefix: pfx("192.0.2.0/24")}

	set(t, s, a, b, c)
	r.AwaitCount(t, speaker.IPv4Unicast, 3)
	r.AwaitEstablished(t, loopback4)
	since := peerState(t, s, p.Address).Since

	t.Run("removing one prefix withdraws just it", func(t *testing.T) {
		set(t, s, a, c)
		r.AwaitNoRoute(t, b.Prefix)
		for _, keep := range []speaker.Announcement{a, c} {
			if _, ok := r.Route(t, keep.Prefix); !ok {
				t.Errorf("router lost %s, which is still desired", keep.Prefix)
			}
		}
	})

	t.Run("nil changes nothing", func(t *testing.T) {
		before := s.Announced()
		if err := s.SetAnnouncements(context.Background(), nil); err != nil {
			t.Fatalf("SetAnnouncements(nil): %v", err)
		}
		if got := s.Announced(); len(got) != len(before) || len(got) != 2 {
			t.Errorf("Announced after nil = %v, want the 2 prefixes from before", got)
		}
		if n := r.Count(t, speaker.IPv4Unicast); n != 2 {
			t.Errorf("router holds %d prefixes after nil, want 2", n)
		}
	})

	t.Run("changed community re-advertises in place", func(t *testing.T) {
		changed := a
		changed.Communities = []uint32{speaker.GracefulShutdown}
		set(t, s, changed, c)
		got := r.AwaitRoute(t, a.Prefix, func(rt speakertest.Route) bool { return rt.HasCommunity(speaker.GracefulShutdown) })
		if got.HasCommunity(localASN<<16 | 1) {
			t.Errorf("route %s still carries the old community", got)
		}
	})

	t.Run("changed prepend and MED re-advertise in place", func(t *testing.T) {
		changed := c
		changed.Prepend = 3
		changed.MED = ptr(uint32(10))
		set(t, s, a, changed)
		r.AwaitRoute(t, c.Prefix, func(rt speakertest.Route) bool {
			return rt.CountAS(localASN) == 4 && rt.MED != nil && *rt.MED == 10
		})
	})

	if n := r.SessionsEstablished(loopback4); n != 1 {
		t.Errorf("router saw the session come up %d times, want 1 (no reset)", n)
	}
	if got := peerState(t, s, p.Address).Since; !got.Equal(since) {
		t.Errorf("speaker's session established since %v, was %v: the session reset", got, since)
	}

	t.Run("empty withdraws all", func(t *testing.T) {
		set(t, s)
		r.AwaitCount(t, speaker.IPv4Unicast, 0)
		if got := s.Announced(); len(got) != 0 {
			t.Errorf("Announced = %v, want none", got)
		}
		if !r.Established(loopback4) {
			t.Errorf("session went down on withdraw-all")
		}
	})
}

// TestAnnouncedIsCanonical checks that Announced returns what was set, in
// canonical form, and cannot be used to change the speaker's state.
func TestAnnouncedIsCanonical(t *testing.T) {
	s := startSpeaker(t)
	set(t, s,
		speaker.Announcement{Prefix: pfx("2001:db8::/48")},
		speaker.Announcement{Prefix: pfx("198.51.100.0/24"), Communities: []uint32{3, 1, 3}, NextHop: addr("0.0.0.0")},
	)
	got := s.Announced()
	if len(got) != 2 || got[0].Prefix != pfx("198.51.100.0/24") || got[1].Prefix != pfx("2001:db8::/48") {
		t.Fatalf("Announced = %v, want 198.51.100.0/24 then 2001:db8::/48", got)
	}
	if cs := got[0].Communities; len(cs) != 2 || cs[0] != 1 || cs[1] != 3 {
		t.Errorf("communities = %v, want [1 3] (sorted, de-duplicated)", cs)
	}
	if got[0].NextHop.IsValid() {
		t.Errorf("next hop 0.0.0.0 = %v, want zero (next-hop self)", got[0].NextHop)
	}
	got[0].Communities[0] = 99
	if again := s.Announced(); again[0].Communities[0] != 1 {
		t.Errorf("changing Announced's result changed the speaker's state")
	}
}
