package speaker_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/agent/speaker"
)

func TestStartRejectsBadConfig(t *testing.T) {
	good := speaker.Config{ASN: localASN, RouterID: addr("192.0.2.254"), ListenPort: -1}
	peer := speaker.Peer{Address: loopback4, ASN: routerASN}
	tests := []struct {
		name    string
		change  func(*speaker.Config)
		wantErr string
	}{
		{"no ASN", func(c *speaker.Config) { c.ASN = 0 }, "field ASN"},
		{"IPv6 router ID", func(c *speaker.Config) { c.RouterID = loopback6 }, `field RouterID "::1"`},
		{"missing router ID", func(c *speaker.Config) { c.RouterID = netip.Addr{} }, "field RouterID"},
		{"listen port", func(c *speaker.Config) { c.ListenPort = -2 }, `field ListenPort "-2"`},
		{"bad peer", func(c *speaker.Config) { c.Peers = []speaker.Peer{{Address: loopback4}} }, `peer "127.0.0.1": field ASN`},
		{"duplicate peer", func(c *speaker.Config) { c.Peers = []speaker.Peer{peer, peer} }, "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.change(&cfg)
			s, err := speaker.Start(context.Background(), cfg)
			if err == nil {
				_ = s.Stop(context.Background(), "")
				t.Fatalf("Start succeeded, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Start error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestSetPeersRejectsBadPeers(t *testing.T) {
	s := startSpeaker(t)
	good := speaker.Peer{Address: addr("127.0.0.200"), Port: 1, ASN: routerASN}
	tests := []struct {
		name    string
		change  func(*speaker.Peer)
		wantErr string
	}{
		{"unspecified address", func(p *speaker.Peer) { p.Address = addr("0.0.0.0") }, "field Address"},
		{"mapped address", func(p *speaker.Peer) { p.Address = addr("::ffff:127.0.0.1") }, "field Address"},
		{"no ASN", func(p *speaker.Peer) { p.ASN = 0 }, "field ASN"},
		{"short hold time", func(p *speaker.Peer) { p.HoldTime = 2 * time.Second }, `field HoldTime "2s"`},
		{"local address family", func(p *speaker.Peer) { p.LocalAddress = loopback6 }, `field LocalAddress "::1"`},
		{"negative cap", func(p *speaker.Peer) { p.MaxPrefixes = -1 }, `field MaxPrefixes "-1"`},
		{"negative retry", func(p *speaker.Peer) { p.ConnectRetry = -time.Second }, "field ConnectRetry"},
		{"unknown family", func(p *speaker.Peer) { p.Families = []speaker.Family{9} }, "unknown family"},
		{"family twice", func(p *speaker.Peer) {
			p.Families = []speaker.Family{speaker.IPv4Unicast, speaker.IPv4Unicast}
		}, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			tt.change(&p)
			err := s.SetPeers(context.Background(), []speaker.Peer{p})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("SetPeers error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	if states, err := s.PeerStatus(context.Background()); err != nil || len(states) != 0 {
		t.Errorf("PeerStatus after refused sets = %v, %v; want no peers", states, err)
	}
}

func TestSetAnnouncementsRejectsBadSets(t *testing.T) {
	s := startSpeaker(t)
	tests := []struct {
		name    string
		anns    []speaker.Announcement
		wantErr string
	}{
		{"invalid prefix", []speaker.Announcement{{}}, "field Prefix"},
		{"host bits", []speaker.Announcement{{Prefix: pfx("203.0.113.1/24")}}, `did you mean "203.0.113.0/24"`},
		{"mapped prefix", []speaker.Announcement{{Prefix: pfx("::ffff:203.0.113.0/120")}}, "plain IPv4 or IPv6"},
		{"next hop family", []speaker.Announcement{{Prefix: pfx("203.0.113.0/24"), NextHop: addr("2001:db8::1")}}, `field NextHop "2001:db8::1"`},
		{"negative prepend", []speaker.Announcement{{Prefix: pfx("203.0.113.0/24"), Prepend: -1}}, `field Prepend "-1"`},
		{"long prepend", []speaker.Announcement{{Prefix: pfx("203.0.113.0/24"), Prepend: speaker.MaxPrepend + 1}}, "field Prepend"},
		{"duplicate", []speaker.Announcement{{Prefix: pfx("203.0.113.0/24")}, {Prefix: pfx("203.0.113.0/24"), Prepend: 1}}, "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.SetAnnouncements(context.Background(), tt.anns)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("SetAnnouncements error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	if got := s.Announced(); len(got) != 0 {
		t.Errorf("Announced after refused sets = %v, want none", got)
	}
}

// TestCheckAgreesWithSetAnnouncements: each announcement alone is taken
// exactly when Check passes it, and refused with Check's error.
func TestCheckAgreesWithSetAnnouncements(t *testing.T) {
	tests := []speaker.Announcement{
		{Prefix: pfx("192.0.2.0/24")},
		{Prefix: pfx("2001:db8::/32")},
		{Prefix: pfx("192.0.2.1/24")},
		{Prefix: pfx("::ffff:192.0.2.0/120")},
		{Prefix: pfx("192.0.2.0/24"), NextHop: addr("203.0.113.1")},
		{Prefix: pfx("192.0.2.0/24"), NextHop: addr("0.0.0.0")},
		{Prefix: pfx("192.0.2.0/24"), NextHop: addr("2001:db8::1")},
		{Prefix: pfx("2001:db8::/32"), NextHop: addr("203.0.113.1")},
		{Prefix: pfx("2001:db8::/32"), NextHop: addr("::ffff:203.0.113.1")},
		{Prefix: pfx("2001:db8::/32"), NextHop: addr("fe80::1%eth0")},
		{Prefix: pfx("192.0.2.0/24"), Prepend: speaker.MaxPrepend},
		{Prefix: pfx("192.0.2.0/24"), Prepend: speaker.MaxPrepend + 1},
		{Prefix: pfx("192.0.2.0/24"), Prepend: -1},
		{},
	}
	s := startSpeaker(t)
	for _, ann := range tests {
		set := s.SetAnnouncements(context.Background(), []speaker.Announcement{ann})
		check := ann.Check()
		if (check == nil) != (set == nil) || check != nil && check.Error() != set.Error() {
			t.Errorf("%+v: Check says %v, SetAnnouncements %v", ann, check, set)
		}
	}
}
