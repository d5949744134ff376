package agent

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/agent/speaker"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/google/go-cmp/cmp"
)

func TestPeerExport(t *testing.T) {
	t.Parallel()
	cfg := &v1.PopConfig{NextHopIpv4: "203.0.113.1", NextHopIpv6: "2001:db8::1", Services: []*v1.ServiceAssignment{
		{Name: "dns", Prefixes: []string{"192.0.2.0/24", "2001:db8:53::/48"}},
		{Name: "http", Prefixes: []string{"198.51.100.0/24"}},
	}}
	hops := parseNextHops(cfg)
	services := accept(cfg).servicePrefixes()
	v4, v6 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2001:db8:1::1")
	med := uint32(20)
	tests := []struct {
		name    string
		peer    *v1.BgpPeer
		session netip.Addr
		want    speaker.Export
		wantErr string
	}{
		{"IPv4 session: the PoP's IPv6 next hop for IPv6, its own address for IPv4", &v1.BgpPeer{}, v4,
			speaker.Export{NextHopIPv6: netip.MustParseAddr("2001:db8::1")}, ""},
		{"IPv6 session: the PoP's IPv4 next hop for IPv4, its own address for IPv6", &v1.BgpPeer{}, v6,
			speaker.Export{NextHopIPv4: netip.MustParseAddr("203.0.113.1")}, ""},
		{"the peer's next hops win", &v1.BgpPeer{NextHopIpv4: "192.0.2.9", NextHopIpv6: "2001:db8::9"}, v4,
			speaker.Export{NextHopIPv4: netip.MustParseAddr("192.0.2.9"), NextHopIPv6: netip.MustParseAddr("2001:db8::9")}, ""},
		{"attributes and services", &v1.BgpPeer{Announce: &v1.PeerAnnounce{
			Communities: []string{"64496:1"}, LargeCommunities: []string{"64512:1:2"}, Med: &med, AsPathPrepend: 2, Services: []string{"http", "unknown"}}}, v6,
			speaker.Export{Communities: []uint32{64496<<16 | 1}, LargeCommunities: []speaker.LargeCommunity{{Global: 64512, Local1: 1, Local2: 2}},
				MED: &med, Prepend: 2, NextHopIPv4: netip.MustParseAddr("203.0.113.1"), Only: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}, ""},
		{"no services", &v1.BgpPeer{Announce: &v1.PeerAnnounce{NoServices: true}}, v6,
			speaker.Export{NextHopIPv4: netip.MustParseAddr("203.0.113.1"), Only: []netip.Prefix{}}, ""},
		{"bad community", &v1.BgpPeer{Announce: &v1.PeerAnnounce{Communities: []string{"65536:1"}}}, v4, speaker.Export{},
			`config peers[0].announce.communities[0] "65536:1"`},
		{"next hop of the wrong family", &v1.BgpPeer{NextHopIpv6: "192.0.2.1"}, v4, speaker.Export{},
			`config peers[0].nextHopIpv6 "192.0.2.1": not a plain address of its family`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := peerExport(0, tt.peer, tt.session, hops, services)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("export (-want +got):\n%s", diff)
			}
		})
	}
}
