package speaker_test

import (
	"slices"
	"testing"

	"github.com/anyctl/anyctl/agent/speaker"
	"github.com/anyctl/anyctl/agent/speaker/speakertest"
	"github.com/anyctl/anyctl/agent/speaker/upstream"
)

// TestAttributesReachRouter announces over real IPv4 and IPv6 sessions and
// checks each route's attributes in the upstream router's RIB.
func TestAttributesReachRouter(t *testing.T) {
	r4, p4 := peeredRouter(t, loopback4, loopback4)
	r6, p6 := peeredRouter(t, loopback6, loopback6)
	s := startSpeaker(t, p4, p6)

	lc := speaker.LargeCommunity{Global: localASN, Local1: 1, Local2: 2}
	tests := []struct {
		name   string
		router *speakertest.Router
		ann    speaker.Announcement
		want   speakertest.Route
	}{{
		name:   "ipv4 next hop self",
		router: r4,
		ann:    speaker.Announcement{Prefix: pfx("203.0.113.0/24")},
		want:   speakertest.Route{NextHop: loopback4, ASPath: []uint32{localASN}},
	}, {
		name:   "ipv4 explicit next hop and all attributes",
		router: r4,
		ann: speaker.Announcement{
			Prefix:           pfx("198.51.100.0/24"),
			NextHop:          addr("192.0.2.1"),
			Communities:      []uint32{speaker.GracefulShutdown, localASN<<16 | 100},
			LargeCommunities: []speaker.LargeCommunity{lc},
			MED:              ptr(uint32(50)),
			Prepend:          2,
		},
		want: speakertest.Route{
			NextHop:          addr("192.0.2.1"),
			ASPath:           []uint32{localASN, localASN, localASN},
			Communities:      []uint32{localASN<<16 | 100, speaker.GracefulShutdown},
			LargeCommunities: []speaker.LargeCommunity{lc},
			MED:              ptr(uint32(50)),
		},
	}, {
		name:   "ipv6 next hop self is the session's ipv6 address",
		router: r6,
		ann:    speaker.Announcement{Prefix: pfx("2001:db8:100::/48"), Prepend: 1},
		want:   speakertest.Route{NextHop: loopback6, ASPath: []uint32{localASN, localASN}},
	}, {
		name:   "ipv6 explicit next hop",
		router: r6,
		ann: speaker.Announcement{
			Prefix:      pfx("2001:db8:200::/48"),
			NextHop:     addr("2001:db8::1"),
			Communities: []uint32{localASN<<16 | 7},
			MED:         ptr(uint32(0)),
		},
		want: speakertest.Route{
			NextHop:     addr("2001:db8::1"),
			ASPath:      []uint32{localASN},
			Communities: []uint32{localASN<<16 | 7},
			MED:         ptr(uint32(0)),
		},
	}}
	var anns []speaker.Announcement
	for _, tt := range tests {
		anns = append(anns, tt.ann)
	}
	set(t, s, anns...)

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.router.AwaitRoute(t, tt.ann.Prefix, nil)
			want := tt.want
			want.Prefix, want.From = tt.ann.Prefix, got.From
			if !sameRoute(got, want) {
				t.Errorf("router has\n  %s\nwant\n  %s", got, want)
			}
			if got.NextHop.Is4() != tt.ann.Prefix.Addr().Is4() {
				t.Errorf("next hop %s is not of the prefix's family", got.NextHop)
			}
		})
	}
	// Each router negotiated only its own family.
	if n := r4.Count(t, speaker.IPv6Unicast); n != 0 {
		t.Errorf("IPv4 router holds %d IPv6 prefixes, want 0", n)
	}
	if n := r6.Count(t, speaker.IPv4Unicast); n != 0 {
		t.Errorf("IPv6 router holds %d IPv4 prefixes, want 0", n)
	}
}

// TestNextHopSelfUsesLocalAddress sources the session from a configured
// loopback address and checks that it becomes the next hop.
func TestNextHopSelfUsesLocalAddress(t *testing.T) {
	local := addr("127.0.0.3")
	r, p := peeredRouter(t, addr("127.0.0.4"), local)
	p.LocalAddress = local
	s := startSpeaker(t, p)
	set(t, s, speaker.Announcement{Prefix: pfx("203.0.113.0/24")})
	got := r.AwaitRoute(t, pfx("203.0.113.0/24"), nil)
	if got.NextHop != local || got.From != local {
		t.Errorf("route %s: want next hop and neighbour %s", got, local)
	}
}

// TestPassword brings a session up with TCP MD5 on both ends.
func TestPassword(t *testing.T) {
	r, p := peeredRouter(t, addr("127.0.0.5"), loopback4, upstream.WithPassword("s3cret"))
	p.Password = "s3cret"
	s := startSpeaker(t, p)
	set(t, s, speaker.Announcement{Prefix: pfx("203.0.113.0/24")})
	r.AwaitRoute(t, pfx("203.0.113.0/24"), nil)
}

func sameRoute(a, b speakertest.Route) bool {
	sameMED := (a.MED == nil) == (b.MED == nil) && (a.MED == nil || *a.MED == *b.MED)
	return a.Prefix == b.Prefix && a.NextHop == b.NextHop && a.From == b.From && sameMED &&
		slices.Equal(a.ASPath, b.ASPath) &&
		slices.Equal(a.Communities, b.Communities) &&
		slices.Equal(a.LargeCommunities, b.LargeCommunities)
}
