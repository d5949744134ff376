package compile

import (
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/google/go-cmp/cmp"
)

func dur(d time.Duration) *durationpb.Duration { return durationpb.New(d) }

func TestCheckWithDefaults(t *testing.T) {
	const (
		http  = v1.CheckProtocol_CHECK_PROTOCOL_HTTP
		https = v1.CheckProtocol_CHECK_PROTOCOL_HTTPS
		tcp   = v1.CheckProtocol_CHECK_PROTOCOL_TCP
		dns   = v1.CheckProtocol_CHECK_PROTOCOL_DNS
	)
	tests := []struct {
		name string
		in   *v1.HealthCheck
		want *v1.HealthCheck
	}{
		{"nil is tcp 443", nil,
			&v1.HealthCheck{Protocol: tcp, Target: ":443", Interval: dur(time.Second), Timeout: dur(500 * time.Millisecond), Rise: 2, Fall: 2}},
		{"unspecified protocol is tcp", &v1.HealthCheck{Target: "10.0.0.1:22", Rise: 1, Fall: 4},
			&v1.HealthCheck{Protocol: tcp, Target: "10.0.0.1:22", Interval: dur(time.Second), Timeout: dur(500 * time.Millisecond), Rise: 1, Fall: 4}},
		{"http port, path and status", &v1.HealthCheck{Protocol: http},
			&v1.HealthCheck{Protocol: http, Target: ":80", Path: "/", ExpectedStatus: 200, Interval: dur(time.Second), Timeout: dur(500 * time.Millisecond), Rise: 2, Fall: 2}},
		{"https keeps what is set", &v1.HealthCheck{Protocol: https, Target: "h:8443", Path: "/hz", ExpectedStatus: 204, Interval: dur(3 * time.Second), Timeout: dur(2 * time.Second), Rise: 5, Fall: 6},
			&v1.HealthCheck{Protocol: https, Target: "h:8443", Path: "/hz", ExpectedStatus: 204, Interval: dur(3 * time.Second), Timeout: dur(2 * time.Second), Rise: 5, Fall: 6}},
		{"https port", &v1.HealthCheck{Protocol: https, Rise: 1, Fall: 1},
			&v1.HealthCheck{Protocol: https, Target: ":443", Path: "/", ExpectedStatus: 200, Interval: dur(time.Second), Timeout: dur(500 * time.Millisecond), Rise: 1, Fall: 1}},
		{"dns port, type and rcode", &v1.HealthCheck{Protocol: dns, DnsName: "x.example."},
			&v1.HealthCheck{Protocol: dns, Target: ":53", DnsName: "x.example.", DnsType: "A", DnsRcode: "NOERROR", Interval: dur(time.Second), Timeout: dur(500 * time.Millisecond), Rise: 2, Fall: 2}},
		{"timeout capped by short interval", &v1.HealthCheck{Protocol: tcp, Target: ":1", Interval: dur(200 * time.Millisecond)},
			&v1.HealthCheck{Protocol: tcp, Target: ":1", Interval: dur(200 * time.Millisecond), Timeout: dur(200 * time.Millisecond), Rise: 2, Fall: 2}},
		{"zero interval and timeout are unset", &v1.HealthCheck{Protocol: tcp, Target: ":1", Interval: dur(0), Timeout: dur(0)},
			&v1.HealthCheck{Protocol: tcp, Target: ":1", Interval: dur(time.Second), Timeout: dur(500 * time.Millisecond), Rise: 2, Fall: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := proto.Clone(tt.in)
			got := checkWithDefaults(tt.in)
			if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("checkWithDefaults (-want +got):\n%s", diff)
			}
			if tt.in != nil && !proto.Equal(before, tt.in) {
				t.Errorf("checkWithDefaults mutated its input: %v", tt.in)
			}
		})
	}
}

func TestPeerWithDefaults(t *testing.T) {
	v4 := []v1.AddressFamily{v1.AddressFamily_ADDRESS_FAMILY_IPV4_UNICAST}
	v6 := []v1.AddressFamily{v1.AddressFamily_ADDRESS_FAMILY_IPV6_UNICAST}
	both := []v1.AddressFamily{v1.AddressFamily_ADDRESS_FAMILY_IPV6_UNICAST, v1.AddressFamily_ADDRESS_FAMILY_IPV4_UNICAST}
	tests := []struct {
		name string
		in   *v1.BgpPeer
		want *v1.BgpPeer
	}{
		{"all unset, IPv4", &v1.BgpPeer{Address: "192.0.2.1", PeerAsn: 1},
			&v1.BgpPeer{Address: "192.0.2.1", PeerAsn: 1, Port: 179, HoldTime: dur(90 * time.Second), Families: v4}},
		{"IPv6 family", &v1.BgpPeer{Address: "2001:db8::1", PeerAsn: 1},
			&v1.BgpPeer{Address: "2001:db8::1", PeerAsn: 1, Port: 179, HoldTime: dur(90 * time.Second), Families: v6}},
		{"explicit values kept, zero hold time disables keepalives", &v1.BgpPeer{Address: "192.0.2.1", Port: 1179, HoldTime: dur(0), Families: both},
			&v1.BgpPeer{Address: "192.0.2.1", Port: 1179, HoldTime: dur(0), Families: both}},
		{"unparsable address gets no family", &v1.BgpPeer{Address: "router.example"},
			&v1.BgpPeer{Address: "router.example", Port: 179, HoldTime: dur(90 * time.Second)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, peerWithDefaults(tt.in), protocmp.Transform()); diff != "" {
				t.Errorf("peerWithDefaults (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServiceDefaults(t *testing.T) {
	keep := v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_KEEP_LAST_STATE
	withdraw := v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_WITHDRAW
	tests := []struct {
		name                              string
		spec                              *v1.AnycastServiceSpec
		holdDown, holdDownMax, flapWindow time.Duration
		onLoss                            v1.ControllerLossBehavior
	}{
		{"all unset", &v1.AnycastServiceSpec{}, 5 * time.Second, 5 * time.Minute, 10 * time.Minute, keep},
		{"explicit zero hold-down kept", &v1.AnycastServiceSpec{HoldDown: dur(0)}, 0, 5 * time.Minute, 10 * time.Minute, keep},
		{"max grows to a long hold-down", &v1.AnycastServiceSpec{HoldDown: dur(20 * time.Minute)}, 20 * time.Minute, 20 * time.Minute, 10 * time.Minute, keep},
		{"all set", &v1.AnycastServiceSpec{HoldDown: dur(time.Second), HoldDownMax: dur(time.Minute), FlapWindow: dur(time.Hour), OnControllerLoss: withdraw}, time.Second, time.Minute, time.Hour, withdraw},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := serviceAssignment("svc", tt.spec)
			if got := a.GetHoldDown().AsDuration(); a.HoldDown == nil || got != tt.holdDown {
				t.Errorf("hold_down = %v, want %v", a.GetHoldDown(), tt.holdDown)
			}
			if got := a.GetHoldDownMax().AsDuration(); got != tt.holdDownMax {
				t.Errorf("hold_down_max = %v, want %v", got, tt.holdDownMax)
			}
			if got := a.GetFlapWindow().AsDuration(); got != tt.flapWindow {
				t.Errorf("flap_window = %v, want %v", got, tt.flapWindow)
			}
			if a.OnControllerLoss != tt.onLoss {
				t.Errorf("on_controller_loss = %v, want %v", a.OnControllerLoss, tt.onLoss)
			}
			if a.Announce == nil || a.HealthCheck == nil {
				t.Errorf("announce %v and health_check %v must never be nil", a.Announce, a.HealthCheck)
			}
		})
	}
}

func TestAnnounceMode(t *testing.T) {
	tests := []struct {
		maintenance bool
		step        DrainStep
		want        v1.AnnounceMode
	}{
		{false, DrainNone, v1.AnnounceMode_ANNOUNCE_MODE_NORMAL},
		{false, DrainGslb, v1.AnnounceMode_ANNOUNCE_MODE_NORMAL},
		{false, DrainGracefulShutdown, v1.AnnounceMode_ANNOUNCE_MODE_DRAINING},
		{false, DrainWithdrawn, v1.AnnounceMode_ANNOUNCE_MODE_WITHDRAWN},
		{true, DrainNone, v1.AnnounceMode_ANNOUNCE_MODE_WITHDRAWN},
		{true, DrainGslb, v1.AnnounceMode_ANNOUNCE_MODE_WITHDRAWN},
		{true, DrainGracefulShutdown, v1.AnnounceMode_ANNOUNCE_MODE_WITHDRAWN},
	}
	for _, tt := range tests {
		p := &v1.Pop{Spec: &v1.PopSpec{Maintenance: tt.maintenance}}
		if got := announceMode(p, tt.step); got != tt.want {
			t.Errorf("announceMode(maintenance=%v, %v) = %v, want %v", tt.maintenance, tt.step, got, tt.want)
		}
	}
}

func TestRecordDefaults(t *testing.T) {
	zones := map[string]*v1.GslbZone{
		"z":     compileZone(&v1.GslbZone{Spec: &v1.GslbZoneSpec{Zone: "z.example.", DefaultTtl: 20}}, 1),
		"nottl": compileZone(&v1.GslbZone{Spec: &v1.GslbZoneSpec{Zone: "n.example."}}, 1),
	}
	tests := []struct {
		name        string
		spec        *v1.GslbRecordSpec
		wantName    string
		wantTTL     uint32
		wantAnswers uint32
		wantPolicy  v1.Policy
		wantAllDown v1.AllDownBehavior
	}{
		{"all unset", &v1.GslbRecordSpec{Zone: "z", Name: "a"}, "a.z.example.", 20, 1, v1.Policy_POLICY_NEAREST, v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_FAIL_OPEN},
		{"zone without ttl", &v1.GslbRecordSpec{Zone: "nottl", Name: "a"}, "a.n.example.", DefaultZoneTTL, 1, v1.Policy_POLICY_NEAREST, v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_FAIL_OPEN},
		{"unknown zone", &v1.GslbRecordSpec{Zone: "gone", Name: "a.example.org"}, "a.example.org.", DefaultZoneTTL, 1, v1.Policy_POLICY_NEAREST, v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_FAIL_OPEN},
		{"all set", &v1.GslbRecordSpec{Zone: "z", Name: "B.z.example.", Ttl: 5, Answers: 3, Policy: v1.Policy_POLICY_WEIGHTED, WhenAllDown: v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_NODATA},
			"b.z.example.", 5, 3, v1.Policy_POLICY_WEIGHTED, v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_NODATA},
	}
	s := fleetState()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := compileRecord(s, &v1.GslbRecord{Spec: tt.spec}, zones).GetSpec()
			if got.Name != tt.wantName || got.Ttl != tt.wantTTL || got.Answers != tt.wantAnswers || got.Policy != tt.wantPolicy || got.WhenAllDown != tt.wantAllDown {
				t.Errorf("got name %q ttl %d answers %d policy %v all-down %v, want %q %d %d %v %v",
					got.Name, got.Ttl, got.Answers, got.Policy, got.WhenAllDown,
					tt.wantName, tt.wantTTL, tt.wantAnswers, tt.wantPolicy, tt.wantAllDown)
			}
		})
	}
}
