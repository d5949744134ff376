package agent

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/agent/speaker"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/testing/protocmp"
)

// testPolicy allows two IPv4 documentation ranges and the IPv6 one.
func testPolicy() *Policy {
	return &Policy{
		Allowed: []netip.Prefix{
			netip.MustParsePrefix("192.0.2.0/24"),
			netip.MustParsePrefix("198.51.100.0/24"),
			netip.MustParsePrefix("2001:db8::/32"),
		},
		MaxPerPeer: defaultMaxPrefixes,
	}
}

// service is a NORMAL, tcp-checked service with no attributes; opts adjust it.
func service(name string, prefixes []string, opts ...func(*v1.ServiceAssignment)) *v1.ServiceAssignment {
	s := &v1.ServiceAssignment{
		Name:        name,
		Prefixes:    prefixes,
		HealthCheck: &v1.HealthCheck{Protocol: v1.CheckProtocol_CHECK_PROTOCOL_TCP, Target: ":53"},
		Announce:    &v1.AnnounceAttributes{},
		Mode:        v1.AnnounceMode_ANNOUNCE_MODE_NORMAL,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func mode(m v1.AnnounceMode) func(*v1.ServiceAssignment) {
	return func(s *v1.ServiceAssignment) { s.Mode = m }
}

func onLoss(b v1.ControllerLossBehavior) func(*v1.ServiceAssignment) {
	return func(s *v1.ServiceAssignment) { s.OnControllerLoss = b }
}

func noCheck(s *v1.ServiceAssignment) { s.HealthCheck = nil }

// attrs gives a service two communities, a large community, MED 10 and a
// prepend of 2; draining adds 3 more prepends.
func attrs(s *v1.ServiceAssignment) {
	med := uint32(10)
	s.Announce = &v1.AnnounceAttributes{
		Communities:      []string{"64512:100", "64512:200"},
		LargeCommunities: []string{"64512:1:53"},
		Med:              &med,
		AsPathPrepend:    2,
	}
	s.DrainPrepend = 3
}

// prepend sets a service's own AS-path prepend.
func prepend(n uint32) func(*v1.ServiceAssignment) {
	return func(s *v1.ServiceAssignment) { s.Announce.AsPathPrepend = n }
}

func withPrepend(a speaker.Announcement, n int) speaker.Announcement {
	a.Prepend = n
	return a
}

func popConfig(svcs ...*v1.ServiceAssignment) *v1.PopConfig {
	return &v1.PopConfig{Pop: "tokyo", LocalAsn: 64512, RouterId: "192.0.2.254", Services: svcs}
}

// withNextHops sets the config's next hops for both families.
func withNextHops(c *v1.PopConfig) *v1.PopConfig {
	c.NextHopIpv4, c.NextHopIpv6 = "203.0.113.1", "2001:db8::1"
	return c
}

// want is one prefix's expected decision: reason is a prefix of the
// reported reason, so the table says what matters and not every word.
type want struct {
	prefix    string
	announced bool
	refused   bool
	reason    string
}

func ann(prefix string) speaker.Announcement {
	return speaker.Announcement{Prefix: netip.MustParsePrefix(prefix)}
}

// annAttrs is ann with the attributes attrs sets, undrained.
func annAttrs(prefix string) speaker.Announcement {
	a := ann(prefix)
	med := uint32(10)
	a.Communities = []uint32{64512<<16 | 100, 64512<<16 | 200}
	a.LargeCommunities = []speaker.LargeCommunity{{Global: 64512, Local1: 1, Local2: 53}}
	a.MED = &med
	a.Prepend = 2
	return a
}

func draining(a speaker.Announcement) speaker.Announcement {
	a.Communities = append(slices.Clone(a.Communities), speaker.GracefulShutdown)
	a.Prepend += 3
	return a
}

var (
	v4     = []string{"192.0.2.0/24"}
	v4v6   = []string{"192.0.2.0/24", "2001:db8:53::/48"}
	up     = map[string]bool{"edge": true}
	noneUp = map[string]bool{}
)

func TestDesired(t *testing.T) {
	tests := []struct {
		name     string
		cfg      *v1.PopConfig
		healthy  map[string]bool
		lost     bool
		shutting bool
		policy   func(*Policy)
		anns     []speaker.Announcement
		states   []want
	}{
		{
			name:    "normal and healthy: both families; the PoP's next hops go to the peers (peerExport), not the announcements",
			cfg:     withNextHops(popConfig(service("edge", v4v6))),
			healthy: up,
			anns:    []speaker.Announcement{ann("192.0.2.0/24"), ann("2001:db8:53::/48")},
			states:  []want{{"192.0.2.0/24", true, false, "healthy"}, {"2001:db8:53::/48", true, false, "healthy"}},
		},
		{
			name:    "no next hops configured: the session address (zero) for both families",
			cfg:     popConfig(service("edge", v4v6)),
			healthy: up,
			anns:    []speaker.Announcement{ann("192.0.2.0/24"), ann("2001:db8:53::/48")},
			states:  []want{{"192.0.2.0/24", true, false, "healthy"}, {"2001:db8:53::/48", true, false, "healthy"}},
		},
		{
			name:    "attributes: communities, large communities, MED, prepend",
			cfg:     popConfig(service("edge", v4v6, attrs)),
			healthy: up,
			anns:    []speaker.Announcement{annAttrs("192.0.2.0/24"), annAttrs("2001:db8:53::/48")},
			states:  []want{{"192.0.2.0/24", true, false, "healthy"}, {"2001:db8:53::/48", true, false, "healthy"}},
		},
		{
			name:    "draining: GRACEFUL_SHUTDOWN added and drainPrepend on top of the prepend",
			cfg:     popConfig(service("edge", v4, attrs, mode(v1.AnnounceMode_ANNOUNCE_MODE_DRAINING))),
			healthy: up,
			anns:    []speaker.Announcement{draining(annAttrs("192.0.2.0/24"))},
			states:  []want{{"192.0.2.0/24", true, false, "draining: GRACEFUL_SHUTDOWN"}},
		},
		{
			name:    "draining and unhealthy: withdrawn, health wins",
			cfg:     popConfig(service("edge", v4, mode(v1.AnnounceMode_ANNOUNCE_MODE_DRAINING))),
			healthy: map[string]bool{"edge": false},
			states:  []want{{"192.0.2.0/24", false, false, "health check down"}},
		},
		{
			name:    "withdrawn by the controller, although healthy",
			cfg:     popConfig(service("edge", v4v6, mode(v1.AnnounceMode_ANNOUNCE_MODE_WITHDRAWN))),
			healthy: up,
			states:  []want{{"192.0.2.0/24", false, false, "withdrawn by the controller"}, {"2001:db8:53::/48", false, false, "withdrawn by the controller"}},
		},
		{
			name:     "shutting down: normal services drain",
			cfg:      popConfig(service("edge", v4, attrs)),
			healthy:  up,
			shutting: true,
			anns:     []speaker.Announcement{draining(annAttrs("192.0.2.0/24"))},
			states:   []want{{"192.0.2.0/24", true, false, "draining"}},
		},
		{
			name:     "shutting down: a withdrawn service stays withdrawn",
			cfg:      popConfig(service("edge", v4, mode(v1.AnnounceMode_ANNOUNCE_MODE_WITHDRAWN))),
			healthy:  up,
			shutting: true,
			states:   []want{{"192.0.2.0/24", false, false, "withdrawn by the controller"}},
		},
		{
			name:    "health check down",
			cfg:     popConfig(service("edge", v4v6)),
			healthy: map[string]bool{"edge": false},
			states:  []want{{"192.0.2.0/24", false, false, "health check down"}, {"2001:db8:53::/48", false, false, "health check down"}},
		},
		{
			name:    "health not yet known",
			cfg:     popConfig(service("edge", v4)),
			healthy: noneUp,
			states:  []want{{"192.0.2.0/24", false, false, "health check not yet run"}},
		},
		{
			name:    "another service's health does not count",
			cfg:     popConfig(service("edge", v4), service("other", []string{"198.51.100.0/24"})),
			healthy: map[string]bool{"other": true},
			anns:    []speaker.Announcement{ann("198.51.100.0/24")},
			states:  []want{{"192.0.2.0/24", false, false, "health check not yet run"}, {"198.51.100.0/24", true, false, "healthy"}},
		},
		{
			name:    "no health check: announced without one",
			cfg:     popConfig(service("edge", v4, noCheck)),
			healthy: noneUp,
			anns:    []speaker.Announcement{ann("192.0.2.0/24")},
			states:  []want{{"192.0.2.0/24", true, false, "healthy"}},
		},
		{
			name:    "controller lost, KEEP_LAST_STATE: still announced",
			cfg:     popConfig(service("edge", v4, onLoss(v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_KEEP_LAST_STATE))),
			healthy: up,
			lost:    true,
			anns:    []speaker.Announcement{ann("192.0.2.0/24")},
			states:  []want{{"192.0.2.0/24", true, false, "healthy"}},
		},
		{
			name:    "controller lost, KEEP_LAST_STATE: health still gates",
			cfg:     popConfig(service("edge", v4, onLoss(v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_KEEP_LAST_STATE))),
			healthy: map[string]bool{"edge": false},
			lost:    true,
			states:  []want{{"192.0.2.0/24", false, false, "health check down"}},
		},
		{
			name:    "controller lost, WITHDRAW: withdrawn although healthy",
			cfg:     popConfig(service("edge", v4, onLoss(v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_WITHDRAW))),
			healthy: up,
			lost:    true,
			states:  []want{{"192.0.2.0/24", false, false, "controller unreachable"}},
		},
		{
			name:    "controller connected, WITHDRAW: announced",
			cfg:     popConfig(service("edge", v4, onLoss(v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_WITHDRAW))),
			healthy: up,
			anns:    []speaker.Announcement{ann("192.0.2.0/24")},
			states:  []want{{"192.0.2.0/24", true, false, "healthy"}},
		},
		{
			name:    "controller lost: services differ by their own behaviour",
			cfg:     popConfig(service("edge", v4, onLoss(v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_WITHDRAW)), service("other", []string{"198.51.100.0/24"}, onLoss(v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_KEEP_LAST_STATE))),
			healthy: map[string]bool{"edge": true, "other": true},
			lost:    true,
			anns:    []speaker.Announcement{ann("198.51.100.0/24")},
			states:  []want{{"192.0.2.0/24", false, false, "controller unreachable"}, {"198.51.100.0/24", true, false, "healthy"}},
		},
		{
			name:    "outside the local allowlist: refused, the rest announced",
			cfg:     popConfig(service("edge", []string{"203.0.113.0/24", "192.0.2.0/24"})),
			healthy: up,
			anns:    []speaker.Announcement{ann("192.0.2.0/24")},
			states:  []want{{"203.0.113.0/24", false, true, "refused: outside the local allowlist"}, {"192.0.2.0/24", true, false, "healthy"}},
		},
		{
			name:    "default routes: refused",
			cfg:     popConfig(service("edge", []string{"0.0.0.0/0", "::/0"})),
			healthy: up,
			policy: func(p *Policy) {
				p.Allowed = append(p.Allowed, netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"))
			},
			states: []want{{"0.0.0.0/0", false, true, "refused: default route"}, {"::/0", false, true, "refused: default route"}},
		},
		{
			name:    "martians: refused even when allowed locally",
			cfg:     popConfig(service("edge", []string{"127.0.0.0/8", "224.0.0.0/24", "fe80::/10"})),
			healthy: up,
			policy: func(p *Policy) {
				p.Allowed = append(p.Allowed, netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"))
			},
			states: []want{
				{"127.0.0.0/8", false, true, "refused: martian"},
				{"224.0.0.0/24", false, true, "refused: martian"},
				{"fe80::/10", false, true, "refused: martian"},
			},
		},
		{
			name:    "too long without allowLong: refused",
			cfg:     popConfig(service("edge", []string{"192.0.2.128/25", "2001:db8:1:2::/64"})),
			healthy: up,
			states:  []want{{"192.0.2.128/25", false, true, "refused: prefix too long"}, {"2001:db8:1:2::/64", false, true, "refused: prefix too long"}},
		},
		{
			name:    "too long with allowLong: announced",
			cfg:     popConfig(service("edge", []string{"192.0.2.128/25", "2001:db8:1:2::/64"})),
			healthy: up,
			policy:  func(p *Policy) { p.AllowLong = true },
			anns:    []speaker.Announcement{ann("192.0.2.128/25"), ann("2001:db8:1:2::/64")},
			states:  []want{{"192.0.2.128/25", true, false, "healthy"}, {"2001:db8:1:2::/64", true, false, "healthy"}},
		},
		{
			name:    "not a prefix: refused, quoting it",
			cfg:     popConfig(service("edge", []string{"192.0.2.0", "192.0.2.0/24"})),
			healthy: up,
			anns:    []speaker.Announcement{ann("192.0.2.0/24")},
			states:  []want{{"192.0.2.0", false, true, `refused: "192.0.2.0" is not a prefix`}, {"192.0.2.0/24", true, false, "healthy"}},
		},
		{
			name: "unparseable community: the service's prefixes refused, naming service and value",
			cfg: popConfig(service("edge", v4, func(s *v1.ServiceAssignment) {
				s.Announce = &v1.AnnounceAttributes{Communities: []string{"70000:1"}}
			})),
			healthy: up,
			states:  []want{{"192.0.2.0/24", false, true, `refused: service "edge": community "70000:1"`}},
		},
		{
			name: "unparseable large community: refused, naming the value",
			cfg: popConfig(service("edge", v4, func(s *v1.ServiceAssignment) {
				s.Announce = &v1.AnnounceAttributes{LargeCommunities: []string{"1:2"}}
			})),
			healthy: up,
			states:  []want{{"192.0.2.0/24", false, true, `refused: service "edge": large community "1:2"`}},
		},
		{
			name: "draining at the prepend limit: the drain's prepends stop at 16",
			cfg: popConfig(service("edge", v4, attrs, prepend(15), mode(v1.AnnounceMode_ANNOUNCE_MODE_DRAINING)),
				service("other", []string{"198.51.100.0/24"})),
			healthy: map[string]bool{"edge": true, "other": true},
			anns:    []speaker.Announcement{withPrepend(draining(annAttrs("192.0.2.0/24")), 16), ann("198.51.100.0/24")},
			states:  []want{{"192.0.2.0/24", true, false, "draining"}, {"198.51.100.0/24", true, false, "healthy"}},
		},
		{
			name:    "own prepend above 16 (an older controller): refused, the other services announced",
			cfg:     popConfig(service("edge", v4, prepend(17)), service("other", []string{"198.51.100.0/24"})),
			healthy: map[string]bool{"edge": true, "other": true},
			anns:    []speaker.Announcement{ann("198.51.100.0/24")},
			states:  []want{{"192.0.2.0/24", false, true, `refused: service "edge": asPathPrepend "17" is above 16`}, {"198.51.100.0/24", true, false, "healthy"}},
		},
		{
			name:    "a prefix in two services: the first listing keeps it, whatever its health",
			cfg:     popConfig(service("a", v4), service("b", []string{"198.51.100.0/24", "192.0.2.0/24"})),
			healthy: map[string]bool{"a": false, "b": true},
			anns:    []speaker.Announcement{ann("198.51.100.0/24")},
			states: []want{
				{"192.0.2.0/24", false, false, "health check down"},
				{"198.51.100.0/24", true, false, "healthy"},
				{"192.0.2.0/24", false, true, `refused: prefix "192.0.2.0/24" already listed by service "a"`},
			},
		},
		{
			name:    "a prefix twice in one service, written two ways: announced once",
			cfg:     popConfig(service("edge", []string{"2001:db8:53::/48", "2001:DB8:53::/48"})),
			healthy: up,
			anns:    []speaker.Announcement{ann("2001:db8:53::/48")},
			states:  []want{{"2001:db8:53::/48", true, false, "healthy"}, {"2001:DB8:53::/48", false, true, `refused: prefix "2001:DB8:53::/48" already listed by service "edge"`}},
		},
		{
			name:    "host bits set: refused",
			cfg:     popConfig(service("edge", []string{"192.0.2.1/24", "198.51.100.0/24"})),
			healthy: up,
			anns:    []speaker.Announcement{ann("198.51.100.0/24")},
			states:  []want{{"192.0.2.1/24", false, true, "refused: host bits set"}, {"198.51.100.0/24", true, false, "healthy"}},
		},
		{
			name: "IPv4 next hop of the wrong family: IPv4 prefixes refused, IPv6 announced",
			cfg: func() *v1.PopConfig {
				c := withNextHops(popConfig(service("edge", v4v6)))
				c.NextHopIpv4 = "2001:db8::1"
				return c
			}(),
			healthy: up,
			anns:    []speaker.Announcement{ann("2001:db8:53::/48")},
			states:  []want{{"192.0.2.0/24", false, true, `refused: config nextHopIpv4 "2001:db8::1": not a plain address`}, {"2001:db8:53::/48", true, false, "healthy"}},
		},
		{
			name: "IPv6 next hop unparseable or scoped: IPv6 prefixes refused, not sent from the session address",
			cfg: func() *v1.PopConfig {
				c := withNextHops(popConfig(service("edge", v4v6)))
				c.NextHopIpv6 = "fe80::1%eth0"
				return c
			}(),
			healthy: up,
			anns:    []speaker.Announcement{ann("192.0.2.0/24")},
			states:  []want{{"192.0.2.0/24", true, false, "healthy"}, {"2001:db8:53::/48", false, true, `refused: config nextHopIpv6 "fe80::1%eth0"`}},
		},
		{
			name: "policy refusal wins over withdrawn mode and lost controller",
			cfg: popConfig(service("edge", []string{"203.0.113.0/24"}, mode(v1.AnnounceMode_ANNOUNCE_MODE_WITHDRAWN),
				onLoss(v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_WITHDRAW))),
			healthy: up,
			lost:    true,
			states:  []want{{"203.0.113.0/24", false, true, "refused: outside the local allowlist"}},
		},
		{
			name: "per-peer cap: the lowest prefixes kept (IPv4 first), the rest refused",
			cfg: popConfig(
				service("b", []string{"2001:db8:1::/48", "198.51.100.0/24"}),
				service("a", []string{"192.0.2.128/25", "192.0.2.0/25"}),
			),
			healthy: map[string]bool{"a": true, "b": true},
			policy:  func(p *Policy) { p.MaxPerPeer, p.AllowLong = 2, true },
			anns:    []speaker.Announcement{ann("192.0.2.0/25"), ann("192.0.2.128/25")},
			states: []want{
				{"2001:db8:1::/48", false, true, "refused: over the cap of 2 prefixes per peer"},
				{"198.51.100.0/24", false, true, "refused: over the cap of 2 prefixes per peer"},
				{"192.0.2.128/25", true, false, "healthy"},
				{"192.0.2.0/25", true, false, "healthy"},
			},
		},
		{
			name:    "per-peer cap: only announced prefixes count against it",
			cfg:     popConfig(service("a", v4), service("b", []string{"198.51.100.0/24"})),
			healthy: map[string]bool{"a": false, "b": true},
			policy:  func(p *Policy) { p.MaxPerPeer = 1 },
			anns:    []speaker.Announcement{ann("198.51.100.0/24")},
			states:  []want{{"192.0.2.0/24", false, false, "health check down"}, {"198.51.100.0/24", true, false, "healthy"}},
		},
		{
			name:    "per-peer cap: exactly at the cap, nothing refused",
			cfg:     popConfig(service("edge", v4v6)),
			healthy: up,
			policy:  func(p *Policy) { p.MaxPerPeer = 2 },
			anns:    []speaker.Announcement{ann("192.0.2.0/24"), ann("2001:db8:53::/48")},
			states:  []want{{"192.0.2.0/24", true, false, "healthy"}, {"2001:db8:53::/48", true, false, "healthy"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPolicy()
			if tt.policy != nil {
				tt.policy(p)
			}
			anns, states := desired(view{cfg: accept(tt.cfg), healthy: tt.healthy, controllerLost: tt.lost, shuttingDown: tt.shutting, policy: p})
			if diff := cmp.Diff(sortedAnns(tt.anns), sortedAnns(anns), annOpts); diff != "" {
				t.Errorf("announcements (-want +got):\n%s", diff)
			}
			checkStates(t, tt.states, states)
		})
	}
}

var annOpts = cmp.Options{cmpopts.EquateComparable(netip.Prefix{}, netip.Addr{}), cmpopts.EquateEmpty()}

func sortedAnns(anns []speaker.Announcement) []speaker.Announcement {
	return slices.SortedFunc(slices.Values(anns), func(a, b speaker.Announcement) int { return a.Prefix.Compare(b.Prefix) })
}

// checkStates compares the decisions, in config order, with want.
func checkStates(t *testing.T, want []want, got []prefixState) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d prefix states, want %d: %v", len(got), len(want), got)
		return
	}
	for i, w := range want {
		st := got[i].status
		if st.GetPrefix() != w.prefix || st.GetAnnounced() != w.announced || got[i].refused != w.refused || !strings.HasPrefix(st.GetReason(), w.reason) {
			t.Errorf("prefix %d: got %q announced=%v refused=%v reason %q; want %q announced=%v refused=%v reason starting %q",
				i, st.GetPrefix(), st.GetAnnounced(), got[i].refused, st.GetReason(), w.prefix, w.announced, w.refused, w.reason)
		}
	}
}

// TestDesiredStatusAttributes checks what a prefix's status reports: the
// service, the mode and the attributes as sent, drain additions included.
func TestDesiredStatusAttributes(t *testing.T) {
	med := uint32(10)
	tests := []struct {
		name     string
		mode     v1.AnnounceMode
		shutting bool
		prepend  uint32 // the service's own, when not attrs's 2
		want     *v1.PrefixStatus
	}{
		{
			name: "normal",
			mode: v1.AnnounceMode_ANNOUNCE_MODE_NORMAL,
			want: &v1.PrefixStatus{Prefix: "192.0.2.0/24", Service: "edge", Announced: true, Mode: v1.AnnounceMode_ANNOUNCE_MODE_NORMAL, Reason: "healthy",
				Communities: []string{"64512:100", "64512:200"}, LargeCommunities: []string{"64512:1:53"}, Med: &med, AsPathPrepend: 2},
		},
		{
			name: "draining",
			mode: v1.AnnounceMode_ANNOUNCE_MODE_DRAINING,
			want: &v1.PrefixStatus{Prefix: "192.0.2.0/24", Service: "edge", Announced: true, Mode: v1.AnnounceMode_ANNOUNCE_MODE_DRAINING,
				Reason:      "draining: GRACEFUL_SHUTDOWN and extra prepends",
				Communities: []string{"64512:100", "64512:200", "65535:0"}, LargeCommunities: []string{"64512:1:53"}, Med: &med, AsPathPrepend: 5},
		},
		{
			name:    "draining at the prepend limit reports the 16 sent",
			mode:    v1.AnnounceMode_ANNOUNCE_MODE_DRAINING,
			prepend: 14,
			want: &v1.PrefixStatus{Prefix: "192.0.2.0/24", Service: "edge", Announced: true, Mode: v1.AnnounceMode_ANNOUNCE_MODE_DRAINING,
				Reason:      "draining: GRACEFUL_SHUTDOWN and extra prepends",
				Communities: []string{"64512:100", "64512:200", "65535:0"}, LargeCommunities: []string{"64512:1:53"}, Med: &med, AsPathPrepend: 16},
		},
		{
			name:     "shutting down reports draining",
			mode:     v1.AnnounceMode_ANNOUNCE_MODE_NORMAL,
			shutting: true,
			want: &v1.PrefixStatus{Prefix: "192.0.2.0/24", Service: "edge", Announced: true, Mode: v1.AnnounceMode_ANNOUNCE_MODE_DRAINING,
				Reason:      "draining: GRACEFUL_SHUTDOWN and extra prepends",
				Communities: []string{"64512:100", "64512:200", "65535:0"}, LargeCommunities: []string{"64512:1:53"}, Med: &med, AsPathPrepend: 5},
		},
		{
			name: "withdrawn",
			mode: v1.AnnounceMode_ANNOUNCE_MODE_WITHDRAWN,
			want: &v1.PrefixStatus{Prefix: "192.0.2.0/24", Service: "edge", Mode: v1.AnnounceMode_ANNOUNCE_MODE_WITHDRAWN,
				Reason:      "withdrawn by the controller (drain or maintenance)",
				Communities: []string{"64512:100", "64512:200"}, LargeCommunities: []string{"64512:1:53"}, Med: &med, AsPathPrepend: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := service("edge", v4, attrs, mode(tt.mode))
			if tt.prepend != 0 {
				svc.Announce.AsPathPrepend = tt.prepend
			}
			cfg := popConfig(svc)
			_, states := desired(view{cfg: accept(cfg), healthy: up, shuttingDown: tt.shutting, policy: testPolicy()})
			if len(states) != 1 {
				t.Fatalf("%d states, want 1", len(states))
			}
			if diff := cmp.Diff(tt.want, states[0].status, protocmp.Transform()); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDesiredCapIsDeterministic checks that the prefixes kept under the cap
// depend on the prefixes, not on the order of services or prefixes in the
// config.
func TestDesiredCapIsDeterministic(t *testing.T) {
	a := []string{"198.51.100.0/24", "192.0.2.0/25", "2001:db8:2::/48"}
	b := []string{"192.0.2.128/25", "2001:db8:1::/48"}
	p := testPolicy()
	p.MaxPerPeer, p.AllowLong = 3, true
	healthy := map[string]bool{"a": true, "b": true}
	wantKept := []string{"192.0.2.0/25", "192.0.2.128/25", "198.51.100.0/24"}
	orders := []*v1.PopConfig{
		popConfig(service("a", a), service("b", b)),
		popConfig(service("b", b), service("a", a)),
		popConfig(service("a", reversed(a)), service("b", reversed(b))),
	}
	for i, cfg := range orders {
		anns, states := desired(view{cfg: accept(cfg), healthy: healthy, policy: p})
		var kept, refused []string
		for _, an := range anns {
			kept = append(kept, an.Prefix.String())
		}
		for _, s := range states {
			if s.refused {
				refused = append(refused, s.status.GetPrefix())
			}
		}
		slices.Sort(kept)
		slices.Sort(refused)
		if !slices.Equal(kept, wantKept) || !slices.Equal(refused, []string{"2001:db8:1::/48", "2001:db8:2::/48"}) {
			t.Errorf("order %d: kept %v refused %v; want kept %v and both IPv6 prefixes refused", i, kept, refused, wantKept)
		}
	}
}

func reversed(s []string) []string {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}
