package validation

import (
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/proto"
)

// nestedZones returns the fixture's zone with one nested in it, each
// holding the addresses the other's name servers need, as DNS servers
// answer them (TestGlueInANestedZone in dnsgslb): a name server of the
// outer zone inside the nested one, listed without addresses; a
// delegation of the outer zone whose name server's A record the nested
// zone holds; a delegation of the nested zone whose name server's A
// record the outer zone holds.
func nestedZones() (outer, inner *v1.GslbZone) {
	a, ns := v1.RecordType_RECORD_TYPE_A, v1.RecordType_RECORD_TYPE_NS
	outer = newFixture().zone
	outer.Spec.NameServers = append(outer.Spec.NameServers, &v1.NameServer{Name: "ns3.sub"})
	outer.Spec.Records = append(outer.Spec.Records,
		&v1.StaticRecord{Name: "x.sub", Type: ns, Values: []string{"ns.x.sub"}},
		&v1.StaticRecord{Name: "ns.y.sub", Type: a, Values: []string{"192.0.2.57"}},
	)
	inner = &v1.GslbZone{Metadata: meta("sub"), Spec: &v1.GslbZoneSpec{
		Zone:        "sub.gslb.example.com.",
		Soa:         &v1.Soa{Mname: "ns2.example.net.", Rname: "hostmaster.example.com."},
		NameServers: []*v1.NameServer{{Name: "ns3", Addresses: []string{"198.51.100.55"}}, {Name: "ns2.example.net."}},
		DefaultTtl:  60,
		Records: []*v1.StaticRecord{
			{Name: "ns.x", Type: a, Values: []string{"192.0.2.56"}},
			{Name: "y", Type: ns, Values: []string{"ns.y"}},
		},
	}}
	return outer, inner
}

// TestGlueInANestedZone: the address of a name server inside the zone, or
// inside a delegated zone, may come from another zone served here that
// answers at its name; it was refused as missing glue, though DNS servers
// answer it and send it with referrals. Where no zone answers there, it
// is still refused, and so is a change or delete of the zone holding it
// that leaves another zone's name server without an address.
func TestGlueInANestedZone(t *testing.T) {
	outer, inner := nestedZones()
	for _, order := range [][]proto.Message{{outer, inner}, {inner, outer}} {
		if err := CheckApply(wrap(order...), newFixture().state(), testOpts); err != nil {
			t.Errorf("apply %s first: %v", order[0].(*v1.GslbZone).GetMetadata().GetName(), err)
		}
	}
	st := newFixture().state()
	for _, o := range wrap(outer, inner) {
		st.Put(o)
	}
	for _, tc := range []struct {
		name string
		edit func(outer, inner *v1.GslbZone) []proto.Message
		want string
	}{
		{"outer zone alone", func(outer, inner *v1.GslbZone) []proto.Message { return []proto.Message{outer} }, ``},
		{"nested zone holds no address of the name server", func(outer, inner *v1.GslbZone) []proto.Message {
			inner.Spec.NameServers[0] = &v1.NameServer{Name: "ns9.example.net."}
			return []proto.Message{inner}
		}, `GslbZone "gslb": spec.nameServers[2].addresses: glue required: "ns3.sub.gslb.example.com." is inside the zone; GslbZone "sub", served here, answers for it and holds no address there (a name without a trailing dot is relative to the zone; write "ns3.sub." for a name outside it)`},
		{"nested zone moves away", func(outer, inner *v1.GslbZone) []proto.Message {
			inner.Spec.Zone = "sub.example.org."
			return []proto.Message{inner}
		}, `GslbZone "sub": spec.records[1].values[0] "ns.y": glue required: "ns.y.sub.example.org." is inside the delegated zone; add its A or AAAA record` + "\n" +
			`GslbZone "gslb": spec.nameServers[2].addresses: glue required: "ns3.sub.gslb.example.com." is inside the zone (a name without a trailing dot is relative to the zone; write "ns3.sub." for a name outside it)` + "\n" +
			`GslbZone "gslb": spec.records[4].values[0] "ns.x.sub": glue required: "ns.x.sub.gslb.example.com." is inside the delegated zone; add its A or AAAA record`},
		{"nested zone drops the delegation's glue", func(outer, inner *v1.GslbZone) []proto.Message {
			inner.Spec.Records = inner.Spec.Records[1:]
			return []proto.Message{inner}
		}, `GslbZone "gslb": spec.records[4].values[0] "ns.x.sub": glue required: "ns.x.sub.gslb.example.com." is inside the delegated zone; add its A or AAAA record`},
		{"outer zone drops the nested delegation's glue", func(outer, inner *v1.GslbZone) []proto.Message {
			outer.Spec.Records = outer.Spec.Records[:5]
			return []proto.Message{outer}
		}, `GslbZone "sub": spec.records[1].values[0] "ns.y": glue required: "ns.y.sub.gslb.example.com." is inside the delegated zone; add its A or AAAA record`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, i := nestedZones()
			if got := errString(CheckApply(wrap(tc.edit(o, i)...), st, testOpts)); got != tc.want {
				t.Errorf("CheckApply errors:\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
	want := `GslbZone "sub": deleting it breaks GslbZone "gslb": spec.nameServers[2].addresses: glue required: "ns3.sub.gslb.example.com." is inside the zone (a name without a trailing dot is relative to the zone; write "ns3.sub." for a name outside it)` + "\n" +
		`GslbZone "sub": deleting it breaks GslbZone "gslb": spec.records[4].values[0] "ns.x.sub": glue required: "ns.x.sub.gslb.example.com." is inside the delegated zone; add its A or AAAA record`
	if got := errString(CheckDelete(resource.Ref{Kind: v1.Kind_KIND_GSLB_ZONE, Name: "sub"}, st)); got != want {
		t.Errorf("CheckDelete errors:\n got: %s\nwant: %s", got, want)
	}
}
