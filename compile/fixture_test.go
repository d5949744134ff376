package compile

import (
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/anyctl/anyctl/resource"
)

// fleetState is a small but realistic desired state: PoPs in three regions
// (one in maintenance), services selected by all, names, regions and both,
// origins with and without checks, and two zones with records of each kind.
// Many values are deliberately non-canonical or unset, so the golden files
// show the canonical forms and defaults.
func fleetState() *resource.State {
	s := resource.NewState(
		pop("ams", "emea", "NL", 52.37, 4.90, func(p *v1.PopSpec) {
			p.Peers = []*v1.BgpPeer{
				{Address: "192.0.2.1", PeerAsn: 64500, Description: "transit-a"},
				{Address: "2001:db8::1", Port: 1179, PeerAsn: 64501, HoldTime: durationpb.New(30 * time.Second), PasswordRef: "ix-ams", MultihopTtl: 2},
				{Address: "192.0.2.9", PeerAsn: 64502, HoldTime: durationpb.New(0), Families: []v1.AddressFamily{v1.AddressFamily_ADDRESS_FAMILY_IPV4_UNICAST, v1.AddressFamily_ADDRESS_FAMILY_IPV6_UNICAST}},
			}
			p.UnicastAddresses = []string{"203.0.113.10", "2001:db8:a::10"}
			p.CacheNetworks = []string{"2001:db8:a::/64", "203.0.113.77/26", "203.0.113.0/26"}
			p.NextHopIpv4 = "203.0.113.1"
		}),
		pop("fra", "emea", "DE", 50.11, 8.68, func(p *v1.PopSpec) {
			p.UnicastAddresses = []string{"203.0.113.20"}
			p.CacheNetworks = []string{"203.0.113.64/26"}
		}),
		pop("lhr", "emea", "GB", 51.47, -0.45, func(p *v1.PopSpec) {
			p.Maintenance = true
			p.UnicastAddresses = []string{"203.0.113.30"}
		}),
		pop("nrt", "apac", "JP", 35.77, 140.39, func(p *v1.PopSpec) {
			p.UnicastAddresses = []string{"198.18.0.10"}
			p.NextHopIpv6 = "2001:db8:b::1"
		}),
		pop("sin", "apac", "SG", 1.36, 103.99, nil),
		pop("iad", "nam", "US", 38.94, -77.46, func(p *v1.PopSpec) {
			p.UnicastAddresses = []string{"198.18.1.10"}
		}),
		pop("sjc", "nam", "US", 37.36, -121.93, nil),

		resource.Wrap(&v1.AnycastService{Metadata: meta("web"), Spec: &v1.AnycastServiceSpec{
			Prefixes: []string{"2001:db8:100::1/48", "198.51.100.7/24", "198.51.100.0/24"},
			Pops:     &v1.PopSelector{All: true},
			HealthCheck: &v1.HealthCheck{
				Protocol: v1.CheckProtocol_CHECK_PROTOCOL_HTTP,
				Target:   ":8080",
				Host:     "www.example.com",
				Interval: durationpb.New(2 * time.Second),
				Rise:     3,
				Fall:     2,
			},
			Announce: &v1.AnnounceAttributes{
				Communities:      []string{"65000:200", "65000:100", "65000:100", "64999:7"},
				LargeCommunities: []string{"65000:2:1", "65000:1:2"},
				Med:              ptr(uint32(10)),
			},
			MinAnnouncingPops: 3,
		}}),
		resource.Wrap(&v1.AnycastService{Metadata: meta("resolver"), Spec: &v1.AnycastServiceSpec{
			Prefixes: []string{"192.0.2.53/32", "2001:db8:53::53/128"},
			Pops:     &v1.PopSelector{Regions: []string{"emea", "apac"}},
			HealthCheck: &v1.HealthCheck{
				Protocol: v1.CheckProtocol_CHECK_PROTOCOL_DNS,
				Target:   "127.0.0.1:53",
				DnsName:  "health.example.com.",
				Rise:     2,
				Fall:     1,
			},
			HoldDown:          durationpb.New(10 * time.Minute),
			OnControllerLoss:  v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_WITHDRAW,
			AllowLongPrefixes: true,
		}}),
		resource.Wrap(&v1.AnycastService{Metadata: meta("api"), Spec: &v1.AnycastServiceSpec{
			Prefixes: []string{"198.51.100.128/25"},
			Pops:     &v1.PopSelector{Names: []string{"iad", "fra", "gone"}},
			HealthCheck: &v1.HealthCheck{
				Protocol: v1.CheckProtocol_CHECK_PROTOCOL_TCP,
				Target:   "127.0.0.1:8443",
				Interval: durationpb.New(300 * time.Millisecond),
				Rise:     2,
				Fall:     3,
			},
			Announce:    &v1.AnnounceAttributes{AsPathPrepend: 1},
			HoldDown:    durationpb.New(0),
			HoldDownMax: durationpb.New(time.Minute),
			FlapWindow:  durationpb.New(30 * time.Minute),
		}}),
		resource.Wrap(&v1.AnycastService{Metadata: meta("video"), Spec: &v1.AnycastServiceSpec{
			Prefixes: []string{"2001:db8:200::/48"},
			Pops:     &v1.PopSelector{Names: []string{"sjc"}, Regions: []string{"apac"}},
			HealthCheck: &v1.HealthCheck{
				Protocol:       v1.CheckProtocol_CHECK_PROTOCOL_HTTPS,
				Path:           "/healthz",
				ExpectedStatus: 204,
				Timeout:        durationpb.New(250 * time.Millisecond),
				Rise:           1,
				Fall:           1,
			},
		}}),
		resource.Wrap(&v1.AnycastService{Metadata: meta("latam"), Spec: &v1.AnycastServiceSpec{
			Prefixes: []string{"198.51.100.64/26"},
			Pops:     &v1.PopSelector{Regions: []string{"latam"}},
		}}),

		resource.Wrap(&v1.Origin{Metadata: meta("origin-eu"), Spec: &v1.OriginSpec{
			Location:  &v1.Location{Latitude: 50.47, Longitude: 12.37, Country: "DE", Continent: "EU", Region: "emea", City: "Falkenstein"},
			Addresses: []string{"198.18.10.1", "2001:db8:e0::1"},
			Weight:    10,
			HealthCheck: &v1.HealthCheck{
				Protocol: v1.CheckProtocol_CHECK_PROTOCOL_HTTPS,
				Target:   ":8443",
				Path:     "/healthz",
				Interval: durationpb.New(5 * time.Second),
				Timeout:  durationpb.New(time.Second),
				Rise:     2,
				Fall:     3,
			},
			Capacity: 20000,
		}}),
		resource.Wrap(&v1.Origin{Metadata: meta("origin-us"), Spec: &v1.OriginSpec{
			Location:  &v1.Location{Latitude: 39.04, Longitude: -77.49, Country: "US", Continent: "NA", Region: "nam", City: "Ashburn"},
			Addresses: []string{"198.18.20.1"},
			Weight:    20,
		}}),
		resource.Wrap(&v1.Origin{Metadata: meta("origin-ap"), Spec: &v1.OriginSpec{
			Location:    &v1.Location{Latitude: 35.68, Longitude: 139.69, Country: "JP", Continent: "AS", Region: "apac", City: "Tokyo"},
			Addresses:   []string{"198.18.30.1", "198.18.30.2"},
			Weight:      5,
			TrafficDial: ptr(int32(50)),
			HealthCheck: &v1.HealthCheck{Protocol: v1.CheckProtocol_CHECK_PROTOCOL_HTTP},
		}}),
		resource.Wrap(&v1.Origin{Metadata: meta("origin-spare"), Spec: &v1.OriginSpec{
			Location:  &v1.Location{Country: "FR", Continent: "EU"},
			Addresses: []string{"198.18.40.1"},
		}}),

		resource.Wrap(&v1.GslbZone{Metadata: meta("gslb"), Spec: &v1.GslbZoneSpec{
			Zone:       "GSLB.Example.COM",
			Soa:        &v1.Soa{Mname: "ns1.gslb.example.com", Rname: "dns-admin.example.com.", Refresh: 7200},
			DefaultTtl: 30,
			NameServers: []*v1.NameServer{
				{Name: "ns1.gslb.example.com.", Addresses: []string{"198.18.99.1"}},
				{Name: "NS2.Example.NET."},
			},
			Records: []*v1.StaticRecord{
				{Name: "@", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{"v=anyctl"}},
				{Name: "www", Type: v1.RecordType_RECORD_TYPE_CNAME, Ttl: 300, Values: []string{"origin.gslb.example.com."}},
			},
		}}),
		resource.Wrap(&v1.GslbZone{Metadata: meta("edge"), Spec: &v1.GslbZoneSpec{
			Zone:        "edge.example.net.",
			NameServers: []*v1.NameServer{{Name: "ns1.example.net."}},
		}}),

		resource.Wrap(&v1.GslbRecord{Metadata: meta("origin"), Spec: &v1.GslbRecordSpec{
			Zone:    "gslb",
			Name:    "origin",
			Type:    v1.RecordType_RECORD_TYPE_A,
			Origins: []string{"origin-eu", "origin-us", "origin-ap"},
			Policy:  v1.Policy_POLICY_LATENCY,
			Residency: []*v1.ResidencyRule{
				{Continents: []string{"EU"}, Allowed: []string{"origin-eu"}},
			},
		}}),
		resource.Wrap(&v1.GslbRecord{Metadata: meta("origin-v6"), Spec: &v1.GslbRecordSpec{
			Zone:        "gslb",
			Name:        "Origin6.gslb.example.com",
			Type:        v1.RecordType_RECORD_TYPE_AAAA,
			Origins:     []string{"origin-eu"},
			Policy:      v1.Policy_POLICY_FAILOVER,
			Ttl:         10,
			WhenAllDown: v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_SERVFAIL,
		}}),
		resource.Wrap(&v1.GslbRecord{Metadata: meta("edge-apex"), Spec: &v1.GslbRecordSpec{
			Zone: "edge",
			Name: "@",
			Type: v1.RecordType_RECORD_TYPE_A,
			Pops: &v1.PopSelector{Regions: []string{"emea"}, Names: []string{"iad"}},
		}}),
		resource.Wrap(&v1.GslbRecord{Metadata: meta("edge-www"), Spec: &v1.GslbRecordSpec{
			Zone:    "edge",
			Name:    "WWW.Edge.Example.Net.",
			Type:    v1.RecordType_RECORD_TYPE_A,
			Pops:    &v1.PopSelector{All: true},
			Policy:  v1.Policy_POLICY_WEIGHTED,
			Answers: 2,
		}}),
	)
	s.Revision = 4711
	return s
}

// fleetObserved drains three PoPs to different steps, marks one origin down,
// leaves one without a verdict and gives RTTs, one to an origin that no
// longer exists.
func fleetObserved() Observed {
	return Observed{
		Drain: map[string]DrainStep{
			"fra":   DrainGslb,
			"nrt":   DrainGracefulShutdown,
			"sin":   DrainWithdrawn,
			"iad":   DrainNone,
			"ghost": DrainWithdrawn,
		},
		OriginHealth: map[string]OriginHealth{
			"origin-eu": {Healthy: true, Reason: "5 of 5 vantage points see it up"},
			"origin-us": {Healthy: false, Reason: "4 of 5 vantage points see it down"},
		},
		RTT: map[string]map[string]time.Duration{
			"ams": {"origin-eu": 9 * time.Millisecond, "origin-us": 82 * time.Millisecond},
			"fra": {"origin-eu": 4500 * time.Microsecond, "origin-gone": 3 * time.Millisecond},
			"nrt": {"origin-ap": 2 * time.Millisecond, "origin-us": 141 * time.Millisecond},
		},
	}
}

func pop(name, region, country string, lat, lon float64, edit func(*v1.PopSpec)) *v1.Object {
	spec := &v1.PopSpec{
		Location: &v1.Location{Latitude: lat, Longitude: lon, Country: country, Region: region, Continent: continentOf[region]},
		LocalAsn: 64512,
		RouterId: "10.255.0." + routerSuffix[name],
		Peers:    []*v1.BgpPeer{{Address: "10.0.0.1", PeerAsn: 64496}},
	}
	if edit != nil {
		edit(spec)
	}
	return resource.Wrap(&v1.Pop{Metadata: meta(name), Spec: spec})
}

var continentOf = map[string]string{"emea": "EU", "apac": "AS", "nam": "NA"}

var routerSuffix = map[string]string{"ams": "1", "fra": "2", "lhr": "3", "nrt": "4", "sin": "5", "iad": "6", "sjc": "7"}

func meta(name string) *v1.ObjectMeta { return &v1.ObjectMeta{Name: name} }

func ptr[T any](v T) *T { return &v }
