// Package validationtest builds large, valid desired states for benchmarks
// of validation, apply and the controller at scale.
package validationtest

import (
	"fmt"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Regions is how many regions Fleet spreads its PoPs over.
const Regions = 10

// Fleet returns n valid objects (n at least 10; at most 300,000): a fifth
// PoPs, a fifth anycast services (half selecting every PoP with a minimum
// of two, half one region), three tenths origins, a GslbZone per thousand
// objects, and GslbRecords choosing among three origins for the rest.
// Every service owns its own IPv6 /48, so none overlap.
func Fleet(n int) []*v1.Object {
	pops, svcs, origins := n/5, n/5, n*3/10
	zones := max(1, n/1000)
	records := n - pops - svcs - origins - zones
	out := make([]*v1.Object, 0, n)
	for i := range pops {
		out = append(out, resource.Wrap(Pop(i)))
	}
	for i := range svcs {
		out = append(out, resource.Wrap(Service(i)))
	}
	for i := range origins {
		out = append(out, resource.Wrap(Origin(i)))
	}
	for i := range zones {
		out = append(out, resource.Wrap(Zone(i)))
	}
	for i := range records {
		out = append(out, resource.Wrap(Record(i, zones, origins)))
	}
	return out
}

// PopName names Fleet's i-th PoP.
func PopName(i int) string { return fmt.Sprintf("pop-%05d", i) }

// Pop is Fleet's i-th PoP, in region i mod Regions.
func Pop(i int) *v1.Pop {
	addr := fmt.Sprintf("10.%d.%d.1", i/256%256, i%256)
	return &v1.Pop{Metadata: &v1.ObjectMeta{Name: PopName(i)}, Spec: &v1.PopSpec{
		Location: &v1.Location{Latitude: float64(i%180) - 89.5, Longitude: float64(i%360) - 179.5, Country: "DE", Continent: "EU",
			Region: fmt.Sprintf("region-%d", i%Regions)},
		LocalAsn: 64512,
		RouterId: addr,
		Peers: []*v1.BgpPeer{{
			Address: fmt.Sprintf("10.%d.%d.2", i/256%256, i%256), PeerAsn: 64500, HoldTime: durationpb.New(90 * time.Second),
			Families: []v1.AddressFamily{v1.AddressFamily_ADDRESS_FAMILY_IPV4_UNICAST},
		}},
		UnicastAddresses: []string{fmt.Sprintf("198.18.%d.%d", i/256%256, i%256)},
	}}
}

// Service is Fleet's i-th anycast service.
func Service(i int) *v1.AnycastService {
	spec := &v1.AnycastServiceSpec{
		Prefixes: []string{fmt.Sprintf("2001:db8:%x::/48", i%65536)},
		HealthCheck: &v1.HealthCheck{
			Protocol: v1.CheckProtocol_CHECK_PROTOCOL_TCP, Target: "127.0.0.1:443",
			Interval: durationpb.New(2 * time.Second), Timeout: durationpb.New(time.Second), Rise: 2, Fall: 2,
		},
	}
	if i%2 == 0 {
		spec.Pops, spec.MinAnnouncingPops = &v1.PopSelector{All: true}, 2
	} else {
		spec.Pops = &v1.PopSelector{Regions: []string{fmt.Sprintf("region-%d", i%Regions)}}
	}
	return &v1.AnycastService{Metadata: &v1.ObjectMeta{Name: fmt.Sprintf("svc-%05d", i)}, Spec: spec}
}

// OriginName names Fleet's i-th origin.
func OriginName(i int) string { return fmt.Sprintf("origin-%05d", i) }

// Origin is Fleet's i-th origin.
func Origin(i int) *v1.Origin {
	return &v1.Origin{Metadata: &v1.ObjectMeta{Name: OriginName(i)}, Spec: &v1.OriginSpec{
		Location:  &v1.Location{Latitude: 50, Longitude: 8, Country: "DE", Continent: "EU"},
		Addresses: []string{fmt.Sprintf("198.19.%d.%d", i/256%256, i%256)},
		Weight:    10,
	}}
}

// Zone is Fleet's i-th GslbZone.
func Zone(i int) *v1.GslbZone {
	return &v1.GslbZone{Metadata: &v1.ObjectMeta{Name: fmt.Sprintf("zone-%03d", i)}, Spec: &v1.GslbZoneSpec{
		Zone: fmt.Sprintf("z%d.example.com.", i),
		Soa: &v1.Soa{Mname: fmt.Sprintf("ns1.z%d.example.com.", i), Rname: "hostmaster.example.com.",
			Refresh: 3600, Retry: 600, Expire: 604800, Minimum: 60},
		NameServers: []*v1.NameServer{{Name: "ns1.example.net."}},
		DefaultTtl:  60,
	}}
}

// Record is Fleet's i-th GslbRecord, in one of zones zones, choosing among
// three of origins origins.
func Record(i, zones, origins int) *v1.GslbRecord {
	return &v1.GslbRecord{Metadata: &v1.ObjectMeta{Name: fmt.Sprintf("rec-%05d", i)}, Spec: &v1.GslbRecordSpec{
		Zone: fmt.Sprintf("zone-%03d", i%zones), Name: fmt.Sprintf("r%d", i), Type: v1.RecordType_RECORD_TYPE_A,
		Origins: []string{OriginName(i % origins), OriginName((i + 1) % origins), OriginName((i + 2) % origins)},
		Policy:  v1.Policy_POLICY_NEAREST, Answers: 1, Ttl: 30,
	}}
}
