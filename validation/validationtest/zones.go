package validationtest

import (
	"fmt"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// ZoneFanout is how many zones NestedZones nests in each zone.
const ZoneFanout = 10

// NestedZoneName names NestedZones' i-th zone object.
func NestedZoneName(i int) string { return fmt.Sprintf("nz-%05d", i) }

// NestedApex is the apex of NestedZones' i-th zone: zone 0 is
// zones.test., and zone i (i > 0) is nested in zone (i-1)/ZoneFanout, as
// z<i>.<its apex>.
func NestedApex(i int) string {
	if i == 0 {
		return "zones.test."
	}
	return fmt.Sprintf("z%d.%s", i, NestedApex((i-1)/ZoneFanout))
}

// NestedZones returns n valid GslbZones (n at most 65,536) nested in a
// tree, each with 20 static records: A and AAAA records, a CNAME, TXT, a
// delegation with its glue, and an "ns2" A record. A zone holding nested
// zones lists, besides its own name server with its address, the first
// nested zone's ns2 without an address: its glue is that zone's. The
// zones come last first, a nested zone before the zone it is nested in,
// so that the first ones of them are valid by themselves.
func NestedZones(n int) []*v1.Object {
	out := make([]*v1.Object, 0, n)
	for i := n - 1; i >= 0; i-- {
		out = append(out, resource.Wrap(NestedZone(i, n)))
	}
	return out
}

// NestedZone is the i-th of NestedZones(n).
func NestedZone(i, n int) *v1.GslbZone {
	a, aaaa := v1.RecordType_RECORD_TYPE_A, v1.RecordType_RECORD_TYPE_AAAA
	hi, lo := i/256%256, i%256
	spec := &v1.GslbZoneSpec{
		Zone:       NestedApex(i),
		DefaultTtl: 300,
		Soa:        &v1.Soa{Mname: "ns1", Rname: "hostmaster", Refresh: 3600, Retry: 600, Expire: 86400, Minimum: 60},
		NameServers: []*v1.NameServer{
			{Name: "ns1", Addresses: []string{fmt.Sprintf("192.0.%d.%d", hi%2+2, lo)}},
			{Name: "ns.example.net."},
		},
		Records: []*v1.StaticRecord{
			{Name: "ns2", Type: a, Values: []string{fmt.Sprintf("198.51.%d.%d", hi%2+100, lo)}},
			{Name: "alias", Type: v1.RecordType_RECORD_TYPE_CNAME, Values: []string{"www." + NestedApex(i)}},
			{Name: "@", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{"v=spf1 -all"}},
			{Name: "sub", Type: v1.RecordType_RECORD_TYPE_NS, Values: []string{"ns.sub"}},
			{Name: "ns.sub", Type: a, Values: []string{fmt.Sprintf("203.0.113.%d", lo)}},
			{Name: "www", Type: aaaa, Values: []string{fmt.Sprintf("2001:db8:%x::80", i)}},
		},
	}
	for k := len(spec.Records); k < 20; k++ {
		spec.Records = append(spec.Records, &v1.StaticRecord{Name: fmt.Sprintf("h%d", k), Type: a,
			Values: []string{fmt.Sprintf("198.18.%d.%d", k, lo)}})
	}
	if child := i*ZoneFanout + 1; child < n {
		spec.NameServers = append(spec.NameServers, &v1.NameServer{Name: fmt.Sprintf("ns2.z%d", child)})
	}
	return &v1.GslbZone{Metadata: &v1.ObjectMeta{Name: NestedZoneName(i)}, Spec: spec}
}
