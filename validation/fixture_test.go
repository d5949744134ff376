package validation

import (
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// fixture is a fully valid, realistic desired state: four PoPs, two
// anycast services, three origins, a zone and a record per policy. Each
// call of newFixture builds fresh objects, so a test case may mutate them.
type fixture struct {
	tokyo, london, newyork, saopaulo *v1.Pop
	dnsSvc, httpSvc                  *v1.AnycastService
	fra, iad, sin                    *v1.Origin
	zone                             *v1.GslbZone
	nearest, latency, weighted       *v1.GslbRecord
	failover, hybrid                 *v1.GslbRecord
}

func meta(name string) *v1.ObjectMeta { return &v1.ObjectMeta{Name: name} }

func dur(d time.Duration) *durationpb.Duration { return durationpb.New(d) }

func pop(name string, loc *v1.Location, asn uint32, routerID, peer, unicast4, unicast6 string) *v1.Pop {
	return &v1.Pop{Metadata: meta(name), Spec: &v1.PopSpec{
		Location: loc,
		LocalAsn: asn,
		RouterId: routerID,
		Peers: []*v1.BgpPeer{{
			Address:  peer,
			PeerAsn:  64500,
			HoldTime: dur(90 * time.Second),
			Families: []v1.AddressFamily{v1.AddressFamily_ADDRESS_FAMILY_IPV4_UNICAST, v1.AddressFamily_ADDRESS_FAMILY_IPV6_UNICAST},
		}},
		UnicastAddresses: []string{unicast4, unicast6},
		CacheNetworks:    []string{unicast4 + "/32"},
		NextHopIpv6:      unicast6,
	}}
}

func origin(name string, loc *v1.Location, weight int32, addrs ...string) *v1.Origin {
	return &v1.Origin{Metadata: meta(name), Spec: &v1.OriginSpec{
		Location:  loc,
		Addresses: addrs,
		Weight:    weight,
		HealthCheck: &v1.HealthCheck{
			Protocol: v1.CheckProtocol_CHECK_PROTOCOL_HTTPS, Target: addrs[0] + ":443", Path: "/healthz",
			ExpectedStatus: 200, Interval: dur(5 * time.Second), Timeout: dur(2 * time.Second), Rise: 2, Fall: 3,
		},
	}}
}

func record(name, dnsName string, typ v1.RecordType, policy v1.Policy, origins ...string) *v1.GslbRecord {
	return &v1.GslbRecord{Metadata: meta(name), Spec: &v1.GslbRecordSpec{
		Zone: "gslb", Name: dnsName, Type: typ, Origins: origins, Policy: policy, Answers: 1, Ttl: 30,
	}}
}

func newFixture() *fixture {
	f := &fixture{
		tokyo: pop("tokyo", &v1.Location{Latitude: 35.6762, Longitude: 139.6503, Country: "JP", Continent: "AS", Region: "apac", City: "Tokyo"},
			64512, "192.0.2.1", "198.51.100.1", "198.51.100.11", "2001:db8:1::11"),
		london: pop("london", &v1.Location{Latitude: 51.5074, Longitude: -0.1278, Country: "GB", Continent: "EU", Region: "emea", City: "London"},
			64512, "192.0.2.2", "198.51.100.2", "198.51.100.12", "2001:db8:1::12"),
		newyork: pop("newyork", &v1.Location{Latitude: 40.7128, Longitude: -74.006, Country: "US", Continent: "NA", Region: "americas", City: "New York"},
			64512, "192.0.2.3", "198.51.100.3", "198.51.100.13", "2001:db8:1::13"),
		saopaulo: pop("saopaulo", &v1.Location{Latitude: -23.5505, Longitude: -46.6333, Country: "BR", Continent: "SA", Region: "americas", City: "São Paulo"},
			4200000001, "192.0.2.4", "2001:db8:2::4", "198.51.100.14", "2001:db8:1::14"),
		fra: origin("fra", &v1.Location{Latitude: 50.1109, Longitude: 8.6821, Country: "DE", Continent: "EU", City: "Frankfurt"},
			50, "198.51.100.100", "2001:db8:100::100"),
		iad: origin("iad", &v1.Location{Latitude: 39.0438, Longitude: -77.4874, Country: "US", Continent: "NA", City: "Ashburn"},
			30, "198.51.100.101", "2001:db8:100::101"),
		sin: origin("sin", &v1.Location{Latitude: 1.3521, Longitude: 103.8198, Country: "SG", Continent: "AS", City: "Singapore"},
			20, "198.51.100.102"),
	}
	// São Paulo peers over IPv6 and carries IPv4 too, with an IPv4 next hop.
	f.saopaulo.Spec.NextHopIpv4 = "198.51.100.14"
	f.saopaulo.Spec.Peers[0].Port = 1179
	f.saopaulo.Spec.Peers[0].MultihopTtl = 2
	f.saopaulo.Spec.Peers[0].LocalAddress = "2001:db8:2::5"
	f.saopaulo.Spec.Peers[0].PasswordRef = "upstream-md5"

	f.dnsSvc = &v1.AnycastService{Metadata: meta("edge-dns"), Spec: &v1.AnycastServiceSpec{
		Prefixes: []string{"192.0.2.0/24", "2001:db8:53::/48"},
		Pops:     &v1.PopSelector{All: true},
		HealthCheck: &v1.HealthCheck{
			Protocol: v1.CheckProtocol_CHECK_PROTOCOL_DNS, Target: ":53", DnsName: "health.example.com.", DnsType: "A", DnsRcode: "NOERROR",
			Interval: dur(time.Second), Timeout: dur(500 * time.Millisecond), Rise: 3, Fall: 2,
		},
		Announce: &v1.AnnounceAttributes{
			Communities: []string{"64512:100", "65535:0"}, LargeCommunities: []string{"4200000001:1:2"},
			Med: proto.Uint32(10), AsPathPrepend: 1,
		},
		HoldDown: dur(10 * time.Second), HoldDownMax: dur(5 * time.Minute), FlapWindow: dur(10 * time.Minute),
		MinAnnouncingPops: 2,
		OnControllerLoss:  v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_KEEP_LAST_STATE,
	}}
	f.httpSvc = &v1.AnycastService{Metadata: meta("edge-http"), Spec: &v1.AnycastServiceSpec{
		Prefixes: []string{"203.0.113.0/24", "2001:db8:80::/48"},
		Pops:     &v1.PopSelector{Regions: []string{"emea", "americas"}},
		HealthCheck: &v1.HealthCheck{
			Protocol: v1.CheckProtocol_CHECK_PROTOCOL_HTTP, Target: "127.0.0.1:8080", Path: "/ready", Host: "www.example.com",
			ExpectedStatus: 204, Interval: dur(2 * time.Second), Timeout: dur(time.Second), Rise: 2, Fall: 2,
		},
		MinAnnouncingPops: 3,
	}}
	f.fra.Spec.TrafficDial = proto.Int32(80)

	f.zone = &v1.GslbZone{Metadata: meta("gslb"), Spec: &v1.GslbZoneSpec{
		Zone: "gslb.example.com.",
		Soa:  &v1.Soa{Mname: "ns1.gslb.example.com.", Rname: "hostmaster.example.com.", Refresh: 3600, Retry: 600, Expire: 604800, Minimum: 60},
		NameServers: []*v1.NameServer{
			{Name: "ns1.gslb.example.com.", Addresses: []string{"198.51.100.53", "2001:db8:53::53"}},
			{Name: "ns2.example.net."},
		},
		DefaultTtl: 60,
		Records: []*v1.StaticRecord{
			{Name: "@", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{"v=spf1 -all"}},
			{Name: "docs", Type: v1.RecordType_RECORD_TYPE_CNAME, Ttl: 3600, Values: []string{"docs.example.net."}},
			{Name: "static.gslb.example.com.", Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"198.51.100.80"}},
			{Name: "static", Type: v1.RecordType_RECORD_TYPE_AAAA, Values: []string{"2001:db8::80"}},
		},
	}}

	f.nearest = record("origin", "origin", v1.RecordType_RECORD_TYPE_A, v1.Policy_POLICY_NEAREST, "fra", "iad", "sin")
	f.nearest.Spec.Residency = []*v1.ResidencyRule{{Continents: []string{"EU"}, Countries: []string{"CH", "NO"}, Allowed: []string{"fra"}}}
	f.nearest.Spec.WhenAllDown = v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_FAIL_OPEN
	f.latency = record("origin-v6", "origin", v1.RecordType_RECORD_TYPE_AAAA, v1.Policy_POLICY_LATENCY, "fra", "iad")
	f.latency.Spec.Ttl = 0
	f.weighted = record("api", "api.gslb.example.com.", v1.RecordType_RECORD_TYPE_A, v1.Policy_POLICY_WEIGHTED, "fra", "iad", "sin")
	f.weighted.Spec.Answers = 2
	f.failover = record("assets", "assets", v1.RecordType_RECORD_TYPE_A, v1.Policy_POLICY_FAILOVER, "iad", "fra")
	f.failover.Spec.WhenAllDown = v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_SERVFAIL
	f.hybrid = record("edge", "edge", v1.RecordType_RECORD_TYPE_AAAA, v1.Policy_POLICY_NEAREST)
	f.hybrid.Spec.Pops = &v1.PopSelector{All: true}
	f.hybrid.Spec.Residency = []*v1.ResidencyRule{{Countries: []string{"JP"}, Allowed: []string{"tokyo"}}}
	return f
}

// messages lists every object of the fixture in dependency order.
func (f *fixture) messages() []proto.Message {
	return []proto.Message{
		f.tokyo, f.london, f.newyork, f.saopaulo,
		f.dnsSvc, f.httpSvc,
		f.fra, f.iad, f.sin,
		f.zone,
		f.nearest, f.latency, f.weighted, f.failover, f.hybrid,
	}
}

func (f *fixture) state() *resource.State { return resource.NewState(wrap(f.messages()...)...) }

func wrap(ms ...proto.Message) []*v1.Object {
	out := make([]*v1.Object, len(ms))
	for i, m := range ms {
		out[i] = resource.Wrap(m)
	}
	return out
}

var testOpts = Options{AllowedPrefixes: DefaultAllowedPrefixes()}

// applyCase is one rule: mutate a fresh fixture, apply the objects
// returned against the untouched fixture, and expect exactly want.
type applyCase struct {
	name   string
	mutate func(f *fixture) []proto.Message
	want   string
}

func runApplyCases(t *testing.T, cases []applyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			incoming := wrap(tc.mutate(f)...)
			got := errString(CheckApply(incoming, newFixture().state(), testOpts))
			if got != tc.want {
				t.Errorf("CheckApply errors:\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}
