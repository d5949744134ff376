package speaker_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/anyctl/anyctl/agent/speaker"
)

// TestStopClosesSessions stops a speaker with an established session and
// checks the router drops it and its routes, and that every later call
// returns ErrStopped at once.
func TestStopClosesSessions(t *testing.T) {
	r, p := peeredRouter(t, addr("127.0.0.10"), loopback4)
	s := startSpeaker(t, p)
	ann := speaker.Announcement{Prefix: pfx("203.0.113.0/24")}
	set(t, s, ann)
	r.AwaitRoute(t, ann.Prefix, nil)

	ctx := context.Background()
	if err := s.Stop(ctx, "test over"); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	r.AwaitDown(t, loopback4)
	r.AwaitNoRoute(t, ann.Prefix)

	calls := []struct {
		name string
		call func() error
	}{
		{"SetAnnouncements", func() error { return s.SetAnnouncements(ctx, []speaker.Announcement{ann}) }},
		{"SetAnnouncements(nil)", func() error { return s.SetAnnouncements(ctx, nil) }},
		{"SetPeers", func() error { return s.SetPeers(ctx, []speaker.Peer{p}) }},
		{"PeerStatus", func() error { _, err := s.PeerStatus(ctx); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, speaker.ErrStopped) {
			t.Errorf("%s after Stop = %v, want ErrStopped", c.name, err)
		}
	}
	if err := s.Stop(ctx, "test over"); err != nil {
		t.Errorf("second Stop = %v, want nil", err)
	}
	if got := s.Announced(); len(got) != 0 {
		t.Errorf("Announced after Stop = %v, want none", got)
	}
}

// TestCallsHonourContext checks that a call waiting its turn gives up when
// its context ends.
func TestCallsHonourContext(t *testing.T) {
	s := startSpeaker(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.SetAnnouncements(ctx, []speaker.Announcement{{Prefix: netip.MustParsePrefix("203.0.113.0/24")}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("SetAnnouncements with a cancelled context = %v, want context.Canceled", err)
	}
}
