package validation

import (
	"slices"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

func TestWarnings(t *testing.T) {
	f := newFixture()
	f.tokyo.Spec.CacheNetworks = []string{"198.51.100.0/24", "198.51.101.0/25", "2001:db8:100::/56", "2001:db8:200::/64", "not a prefix"}
	got := Warnings(wrap(f.tokyo, f.zone), nil)
	want := []string{
		`Pop "tokyo": spec.cacheNetworks[1] "198.51.101.0/25": longer than /24: behind a resolver that shortens ECS to /24 (unbound's default) the DNS server sees only the /24, and cannot tell this network from the rest of it`,
		`Pop "tokyo": spec.cacheNetworks[3] "2001:db8:200::/64": longer than /56: behind a resolver that shortens ECS to /56 (unbound's default) the DNS server sees only the /56, and cannot tell this network from the rest of it`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("Warnings:\n got %q\nwant %q", got, want)
	}
}

// TestAddressWarnings: addresses DNS answers hand to clients that only
// the client's own host or link can reach (loopback, link-local) are
// accepted with a warning, as a local test setup may mean them; static
// A and AAAA data no client connects to (unspecified, multicast,
// broadcast) too, as a zone may answer them on purpose; a localhost name
// at 127.0.0.1 goes without one.
func TestAddressWarnings(t *testing.T) {
	f := newFixture()
	f.fra.Spec.Addresses = []string{"127.0.0.1", "fe80::1"}
	f.tokyo.Spec.UnicastAddresses = []string{"169.254.10.1", "2001:db8:1::11"}
	f.tokyo.Spec.CacheNetworks = nil
	f.zone.Spec.NameServers[0].Addresses = []string{"198.51.100.53", "::1"}
	f.zone.Spec.Records = append(f.zone.Spec.Records,
		&v1.StaticRecord{Name: "localhost", Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"127.0.0.1"}},
		&v1.StaticRecord{Name: "sink", Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"0.0.0.0", "224.0.0.1", "255.255.255.255"}},
		&v1.StaticRecord{Name: "sink", Type: v1.RecordType_RECORD_TYPE_AAAA, Values: []string{"::", "ff02::1"}},
	)
	if err := CheckApply(wrap(f.tokyo, f.fra, f.zone), newFixture().state(), testOpts); err != nil {
		t.Fatalf("CheckApply: %v", err)
	}
	got := Warnings(wrap(f.tokyo, f.fra, f.zone), nil)
	want := []string{
		`Pop "tokyo": spec.unicastAddresses[0] "169.254.10.1": a link-local address: DNS answers hand it to clients, which reach it only on their own link; use an address clients can reach`,
		`Origin "fra": spec.addresses[0] "127.0.0.1": a loopback address: DNS answers hand it to clients, which reach it only on their own host; use an address clients can reach`,
		`Origin "fra": spec.addresses[1] "fe80::1": a link-local address: DNS answers hand it to clients, which reach it only on their own link; use an address clients can reach`,
		`GslbZone "gslb": spec.nameServers[0].addresses[1] "::1": a loopback address: DNS answers hand it to clients, which reach it only on their own host; use an address clients can reach`,
		`GslbZone "gslb": spec.records[5].values[0] "0.0.0.0": the unspecified address: no client can connect to it`,
		`GslbZone "gslb": spec.records[5].values[1] "224.0.0.1": a multicast address: no client can connect to it`,
		`GslbZone "gslb": spec.records[5].values[2] "255.255.255.255": the limited broadcast address: no client can connect to it`,
		`GslbZone "gslb": spec.records[6].values[0] "::": the unspecified address: no client can connect to it`,
		`GslbZone "gslb": spec.records[6].values[1] "ff02::1": a multicast address: no client can connect to it`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("Warnings:\n got %q\nwant %q", got, want)
	}
}

// TestServiceBindingHintWarnings: an ipv4hint or ipv6hint address of a
// static HTTPS or SVCB record is what clients connect to when they skip
// the A and AAAA lookup, so it is warned of as the same address in a
// static A or AAAA record is: unspecified, multicast and the limited
// broadcast address, each hint by itself; a loopback or link-local hint
// goes without one, as it does there.
func TestServiceBindingHintWarnings(t *testing.T) {
	f := newFixture()
	f.zone.Spec.Records = append(f.zone.Spec.Records,
		&v1.StaticRecord{Name: "@", Type: v1.RecordType_RECORD_TYPE_HTTPS, Values: []string{
			"1 . alpn=h2 ipv4hint=192.0.2.1,0.0.0.0 ipv6hint=2001:db8::1",
			"2 . ipv4hint=255.255.255.255 ipv6hint=::,ff02::1",
			"3 . ipv4hint=127.0.0.1 ipv6hint=fe80::1",
		}},
		&v1.StaticRecord{Name: "svc", Type: v1.RecordType_RECORD_TYPE_SVCB, Values: []string{`1 svc.example.net. ipv4hint="224.0.0.1"`}},
	)
	if err := CheckApply(wrap(f.zone), newFixture().state(), testOpts); err != nil {
		t.Fatalf("CheckApply: %v", err)
	}
	got := Warnings(wrap(f.zone), nil)
	want := []string{
		`GslbZone "gslb": spec.records[4].values[0] "1 . alpn=h2 ipv4hint=192.0.2.1,0.0.0.0 ipv6hint=2001:db8::1": ipv4hint "0.0.0.0": the unspecified address: no client can connect to it`,
		`GslbZone "gslb": spec.records[4].values[1] "2 . ipv4hint=255.255.255.255 ipv6hint=::,ff02::1": ipv4hint "255.255.255.255": the limited broadcast address: no client can connect to it`,
		`GslbZone "gslb": spec.records[4].values[1] "2 . ipv4hint=255.255.255.255 ipv6hint=::,ff02::1": ipv6hint "::": the unspecified address: no client can connect to it`,
		`GslbZone "gslb": spec.records[4].values[1] "2 . ipv4hint=255.255.255.255 ipv6hint=::,ff02::1": ipv6hint "ff02::1": a multicast address: no client can connect to it`,
		`GslbZone "gslb": spec.records[5].values[0] "1 svc.example.net. ipv4hint=\"224.0.0.1\"": ipv4hint "224.0.0.1": a multicast address: no client can connect to it`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("Warnings:\n got %q\nwant %q", got, want)
	}
}

// TestCNAMETargetWarnings: a CNAME target of more than one label without
// a trailing dot, a static CNAME's or a name origin's, is served as the
// absolute name, while NS and SOA names so written are relative to the
// zone. It stays served so (changing it would change the answers of
// states already stored), and apply warns, saying what to write for
// either meaning. A target with the dot, one that ends in the zone's own
// name (surely meant absolute), or a single label (refused), gets no
// warning.
func TestCNAMETargetWarnings(t *testing.T) {
	f := newFixture()
	f.zone.Spec.Records = append(f.zone.Spec.Records,
		&v1.StaticRecord{Name: "alias", Type: v1.RecordType_RECORD_TYPE_CNAME, Values: []string{"WWW.example.net"}},
		&v1.StaticRecord{Name: "absolute", Type: v1.RecordType_RECORD_TYPE_CNAME, Values: []string{"www.example.net."}},
		&v1.StaticRecord{Name: "in-zone", Type: v1.RecordType_RECORD_TYPE_CNAME, Values: []string{"static.gslb.example.com"}},
	)
	lb := origin("lb", &v1.Location{Latitude: 48.85, Longitude: 2.35, Country: "FR", Continent: "EU"}, 10, "lb-1.elb.example.net")
	lb.Spec.HealthCheck = nil
	cloud := record("cloud", "cloud", v1.RecordType_RECORD_TYPE_A, v1.Policy_POLICY_NEAREST, "lb")
	dotted := origin("dotted", &v1.Location{Latitude: 48.85, Longitude: 2.35, Country: "FR", Continent: "EU"}, 10, "lb-2.elb.example.net.")
	dotted.Spec.HealthCheck = nil
	unused := origin("unused", &v1.Location{Latitude: 48.85, Longitude: 2.35, Country: "FR", Continent: "EU"}, 10, "lb-3.elb.example.net")
	unused.Spec.HealthCheck = nil
	incoming := wrap(f.zone, lb, dotted, unused, cloud)
	if err := CheckApply(incoming, newFixture().state(), testOpts); err != nil {
		t.Fatalf("CheckApply: %v", err)
	}
	got := Warnings(incoming, newFixture().state())
	want := []string{
		`GslbZone "gslb": spec.records[4].values[0] "WWW.example.net": a CNAME target is served as the absolute name "www.example.net.", though a name without a trailing dot is relative to the zone in NS and SOA data and in zone files: write "WWW.example.net." for that name, or "WWW.example.net.gslb.example.com." for the name in this zone`,
		`Origin "lb": spec.addresses[0] "lb-1.elb.example.net": a DNS name origin is served as the CNAME target "lb-1.elb.example.net.", an absolute name, though a name without a trailing dot is relative to the zone in NS and SOA data and in zone files: write "lb-1.elb.example.net." for that name, or "lb-1.elb.example.net.gslb.example.com." for the name in GslbZone "gslb", which GslbRecord "cloud" answers in`,
		`Origin "unused": spec.addresses[0] "lb-3.elb.example.net": a DNS name origin is served as the CNAME target "lb-3.elb.example.net.", an absolute name, though a name without a trailing dot is relative to the zone in NS and SOA data and in zone files: write "lb-3.elb.example.net." for that name`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("Warnings:\n got %q\nwant %q", got, want)
	}
}

// TestAliasWarnings: GslbRecords at one name, among whose candidates is a
// name origin (answered with a CNAME), are accepted with a warning when
// one client can get a CNAME for one type and addresses for another; not
// when they rank alike over origins with both address families.
func TestAliasWarnings(t *testing.T) {
	lb := origin("lb", &v1.Location{Latitude: 48.85, Longitude: 2.35, Country: "FR", Continent: "EU"}, 10, "lb.cloud.example.net.")
	v4 := origin("v4", &v1.Location{Latitude: 1.35, Longitude: 103.82, Country: "SG", Continent: "AS"}, 10, "198.51.100.150")
	dual := proto.Clone(v4).(*v1.Origin)
	dual.Spec.Addresses = append(dual.Spec.Addresses, "2001:db8:100::150")
	pair := func(policyAAAA v1.Policy, origins ...string) []proto.Message {
		return []proto.Message{
			record("www-a", "www", v1.RecordType_RECORD_TYPE_A, v1.Policy_POLICY_NEAREST, origins...),
			record("www-aaaa", "www", v1.RecordType_RECORD_TYPE_AAAA, policyAAAA, origins...),
		}
	}
	ranking := `GslbRecord "www-a": spec.name "www.gslb.example.com.": beside GslbRecord "www-aaaa", which ranks other candidates, and Origin "lb" is a DNS name answered with a CNAME: one client can get a CNAME for one type and addresses for the other, and a resolver that caches the CNAME follows it for both (a CNAME stands alone): give the records at one name the same origins, pops, policy, residency and whenAllDown`
	family := `Origin "v4": spec.addresses: no address for AAAA records: at "www.gslb.example.com." the AAAA record passes it over for another candidate, for some clients Origin "lb", a DNS name answered with a CNAME, where the A record answers its address: a resolver that caches the CNAME follows it for both (a CNAME stands alone); give the origin both address families, or leave Origin "lb" out of the records at "www.gslb.example.com."`
	for _, tc := range []struct {
		desc               string
		existing, incoming []proto.Message
		want               []string
	}{
		{"alike over dual-stack origins", nil, pair(v1.Policy_POLICY_NEAREST, "fra", "lb"), nil},
		{"ranked differently", nil, pair(v1.Policy_POLICY_FAILOVER, "fra", "lb"), []string{ranking}},
		{"ranked differently, no name origin", nil, pair(v1.Policy_POLICY_FAILOVER, "fra", "iad"), nil},
		{"an origin without IPv6", []proto.Message{v4}, pair(v1.Policy_POLICY_NEAREST, "v4", "lb"), []string{family}},
		{"an origin loses its IPv6 address", append(pair(v1.Policy_POLICY_NEAREST, "v4", "lb"), dual), []proto.Message{v4}, []string{family}},
		{"a record alone", nil, pair(v1.Policy_POLICY_FAILOVER, "fra", "lb")[:1], nil},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			existing := newFixture().state()
			for _, o := range wrap(append([]proto.Message{lb}, tc.existing...)...) {
				existing.Put(o)
			}
			if got := Warnings(wrap(tc.incoming...), existing); !slices.Equal(got, tc.want) {
				t.Errorf("Warnings:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}
