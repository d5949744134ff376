package resource

import (
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

func diffPop(mutate func(*v1.Pop)) *v1.Object {
	p := &v1.Pop{
		Metadata: &v1.ObjectMeta{Name: "tokyo", Labels: map[string]string{"tier": "edge"}, ResourceVersion: 7, CreateRevision: 3},
		Spec: &v1.PopSpec{
			Location: &v1.Location{Latitude: 35.68, Longitude: 139.69, Country: "JP", Continent: "AS"},
			LocalAsn: 65000,
			RouterId: "192.0.2.1",
			Peers: []*v1.BgpPeer{
				{Address: "192.0.2.254", PeerAsn: 64500},
			},
			UnicastAddresses: []string{"198.51.100.1"},
		},
	}
	if mutate != nil {
		mutate(p)
	}
	return Wrap(p)
}

func diffService(mutate func(*v1.AnycastService)) *v1.Object {
	s := &v1.AnycastService{
		Metadata: &v1.ObjectMeta{Name: "web"},
		Spec: &v1.AnycastServiceSpec{
			Prefixes: []string{"203.0.113.0/24"},
			Announce: &v1.AnnounceAttributes{Communities: []string{"65000:1"}},
		},
	}
	if mutate != nil {
		mutate(s)
	}
	return Wrap(s)
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name     string
		old, new *v1.Object
		want     string
	}{
		{
			name: "equal",
			old:  diffPop(nil), new: diffPop(nil),
			want: "",
		},
		{
			name: "only versions differ",
			old:  diffPop(nil),
			new: diffPop(func(p *v1.Pop) {
				p.Metadata.ResourceVersion, p.Metadata.CreateRevision = 99, 98
			}),
			want: "",
		},
		{
			name: "scalar in a list element",
			old:  diffPop(nil),
			new:  diffPop(func(p *v1.Pop) { p.Spec.Peers[0].PeerAsn = 64501 }),
			want: "- spec.peers[0].peerAsn: 64500\n+ spec.peers[0].peerAsn: 64501\n",
		},
		{
			name: "changes in field order",
			old:  diffPop(nil),
			new: diffPop(func(p *v1.Pop) {
				p.Spec.RouterId = "192.0.2.2"
				p.Metadata.Description = "Tokyo"
				p.Spec.Location.Latitude = 35.5
			}),
			want: "+ metadata.description: \"Tokyo\"\n" +
				"- spec.location.latitude: 35.68\n+ spec.location.latitude: 35.5\n" +
				"- spec.routerId: \"192.0.2.1\"\n+ spec.routerId: \"192.0.2.2\"\n",
		},
		{
			name: "field set to zero",
			old:  diffPop(nil),
			new:  diffPop(func(p *v1.Pop) { p.Spec.LocalAsn = 0 }),
			want: "- spec.localAsn: 65000\n",
		},
		{
			name: "list element added at the end",
			old:  diffPop(nil),
			new: diffPop(func(p *v1.Pop) {
				p.Spec.Peers = append(p.Spec.Peers, &v1.BgpPeer{Address: "2001:db8::1", PeerAsn: 64501, HoldTime: durationpb.New(30 * time.Second)})
			}),
			want: "+ spec.peers[1].address: \"2001:db8::1\"\n+ spec.peers[1].peerAsn: 64501\n+ spec.peers[1].holdTime: 30s\n",
		},
		{
			name: "list element removed from the end",
			old: diffPop(func(p *v1.Pop) {
				p.Spec.UnicastAddresses = append(p.Spec.UnicastAddresses, "2001:db8::10")
			}),
			new:  diffPop(nil),
			want: "- spec.unicastAddresses[1]: \"2001:db8::10\"\n",
		},
		{
			name: "empty list element added",
			old:  diffPop(nil),
			new:  diffPop(func(p *v1.Pop) { p.Spec.Peers = append(p.Spec.Peers, &v1.BgpPeer{}) }),
			want: "+ spec.peers[1]: {}\n",
		},
		{
			name: "map entries by key",
			old: diffPop(func(p *v1.Pop) {
				p.Metadata.Labels = map[string]string{"b": "1", "c": "old", "a": "gone"}
			}),
			new: diffPop(func(p *v1.Pop) {
				p.Metadata.Labels = map[string]string{"b": "1", "c": "new", "d": "added"}
			}),
			want: "- metadata.labels[\"a\"]: \"gone\"\n" +
				"- metadata.labels[\"c\"]: \"old\"\n+ metadata.labels[\"c\"]: \"new\"\n" +
				"+ metadata.labels[\"d\"]: \"added\"\n",
		},
		{
			name: "duration set to zero is a change",
			old:  diffPop(nil),
			new:  diffPop(func(p *v1.Pop) { p.Spec.Peers[0].HoldTime = durationpb.New(0) }),
			want: "+ spec.peers[0].holdTime: 0s\n",
		},
		{
			name: "duration changed",
			old:  diffPop(func(p *v1.Pop) { p.Spec.Peers[0].HoldTime = durationpb.New(90 * time.Second) }),
			new:  diffPop(func(p *v1.Pop) { p.Spec.Peers[0].HoldTime = durationpb.New(1500 * time.Millisecond) }),
			want: "- spec.peers[0].holdTime: 1m30s\n+ spec.peers[0].holdTime: 1.5s\n",
		},
		{
			name: "optional scalar set to zero is a change",
			old:  diffService(nil),
			new:  diffService(func(s *v1.AnycastService) { s.Spec.Announce.Med = proto.Uint32(0) }),
			want: "+ spec.announce.med: 0\n",
		},
		{
			name: "empty message added",
			old:  diffService(nil),
			new:  diffService(func(s *v1.AnycastService) { s.Spec.HealthCheck = &v1.HealthCheck{} }),
			want: "+ spec.healthCheck: {}\n",
		},
		{
			name: "message added with fields",
			old:  diffService(nil),
			new: diffService(func(s *v1.AnycastService) {
				s.Spec.HealthCheck = &v1.HealthCheck{Protocol: v1.CheckProtocol_CHECK_PROTOCOL_TCP, Rise: 2}
			}),
			want: "+ spec.healthCheck.protocol: CHECK_PROTOCOL_TCP\n+ spec.healthCheck.rise: 2\n",
		},
		{
			name: "enum changed and bool set",
			old: diffService(func(s *v1.AnycastService) {
				s.Spec.HealthCheck = &v1.HealthCheck{Protocol: v1.CheckProtocol_CHECK_PROTOCOL_HTTP}
			}),
			new: diffService(func(s *v1.AnycastService) {
				s.Spec.HealthCheck = &v1.HealthCheck{Protocol: v1.CheckProtocol_CHECK_PROTOCOL_HTTPS}
				s.Spec.AllowLongPrefixes = true
			}),
			want: "- spec.healthCheck.protocol: CHECK_PROTOCOL_HTTP\n+ spec.healthCheck.protocol: CHECK_PROTOCOL_HTTPS\n" +
				"+ spec.allowLongPrefixes: true\n",
		},
		{
			name: "created",
			old:  nil,
			new:  diffService(nil),
			want: "+ metadata.name: \"web\"\n+ spec.prefixes[0]: \"203.0.113.0/24\"\n+ spec.announce.communities[0]: \"65000:1\"\n",
		},
		{
			name: "deleted",
			old:  diffService(nil),
			new:  nil,
			want: "- metadata.name: \"web\"\n- spec.prefixes[0]: \"203.0.113.0/24\"\n- spec.announce.communities[0]: \"65000:1\"\n",
		},
		{
			name: "different kinds",
			old:  Wrap(&v1.Origin{Metadata: &v1.ObjectMeta{Name: "a"}}),
			new:  Wrap(&v1.GslbZone{Metadata: &v1.ObjectMeta{Name: "a"}, Spec: &v1.GslbZoneSpec{Zone: "gslb.example.com."}}),
			want: "- metadata.name: \"a\"\n+ metadata.name: \"a\"\n+ spec.zone: \"gslb.example.com.\"\n",
		},
		{
			name: "both absent",
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Diff(tt.old, tt.new); got != tt.want {
				t.Errorf("Diff() =\n%s\nwant\n%s", got, tt.want)
			}
			if got, want := Equal(tt.old, tt.new), tt.want == ""; got != want {
				t.Errorf("Equal() = %v, want %v", got, want)
			}
		})
	}
}

func TestEqualLeavesArgumentsAlone(t *testing.T) {
	a, b := diffPop(nil), diffPop(func(p *v1.Pop) { p.Metadata.ResourceVersion = 12 })
	if !Equal(a, b) {
		t.Fatal("objects differing only in versions are not Equal")
	}
	if got := Meta(b).GetResourceVersion(); got != 12 {
		t.Errorf("Equal changed the resource version of its argument to %d", got)
	}
}
