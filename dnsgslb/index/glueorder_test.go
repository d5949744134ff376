package index

import (
	"slices"
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/compile"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation"
)

// TestValidatedAddressesDoNotDependOnZoneOrder gives a name in a nested
// zone addresses from two zones: the outer zone's name server there, and
// the inner zone's static record or name server. Whatever validation
// accepts, the DNS server answers the same addresses at that name
// whichever zone comes first, as the zones' names order them.
func TestValidatedAddressesDoNotDependOnZoneOrder(t *testing.T) {
	zone := func(name, apex string, ns []*v1.NameServer, recs ...*v1.StaticRecord) *v1.Object {
		return resource.Wrap(&v1.GslbZone{Metadata: &v1.ObjectMeta{Name: name}, Spec: &v1.GslbZoneSpec{
			Zone: apex, DefaultTtl: 60,
			Soa:         &v1.Soa{Mname: "ns1.example.net.", Rname: "hostmaster.example.net."},
			NameServers: append([]*v1.NameServer{{Name: "ns1.example.net."}}, ns...),
			Records:     recs,
		}})
	}
	outerNS := []*v1.NameServer{{Name: "ns.inner", Addresses: []string{"192.0.2.1"}}}
	cases := []struct {
		name  string
		inner func() ([]*v1.NameServer, []*v1.StaticRecord)
	}{
		{"a static record of other addresses", func() ([]*v1.NameServer, []*v1.StaticRecord) {
			return nil, []*v1.StaticRecord{{Name: "ns", Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"192.0.2.2"}}}
		}},
		{"a name server of other addresses", func() ([]*v1.NameServer, []*v1.StaticRecord) {
			return []*v1.NameServer{{Name: "ns", Addresses: []string{"192.0.2.2"}}}, nil
		}},
		{"a name server of the same addresses", func() ([]*v1.NameServer, []*v1.StaticRecord) {
			return []*v1.NameServer{{Name: "ns", Addresses: []string{"192.0.2.1"}}}, nil
		}},
		{"a static record of the same addresses", func() ([]*v1.NameServer, []*v1.StaticRecord) {
			return nil, []*v1.StaticRecord{{Name: "ns", Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"192.0.2.1"}}}
		}},
	}
	var accepted int
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var answers [][]string
			for _, outerName := range []string{"a-outer", "z-outer"} {
				ns, recs := c.inner()
				objs := []*v1.Object{zone(outerName, "example.com.", outerNS), zone("m-inner", "inner.example.com.", ns, recs...)}
				st := resource.NewState()
				if err := validation.CheckApply(objs, st, validation.Options{}); err != nil {
					t.Logf("validation: %v", err)
					return
				}
				for _, o := range objs {
					st.Put(o)
				}
				ix, err := Compile(compile.GslbSnapshot(st, compile.Observed{}), Options{})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, rr := range ask(t, ix, "ns.inner.example.com.", dns.TypeA, false).Answer {
					got = append(got, rr.(*dns.A).A.String())
				}
				answers = append(answers, got)
			}
			accepted++
			if !slices.Equal(answers[0], answers[1]) {
				t.Errorf("validation accepts the zones, and ns.inner.example.com. A is %v with the outer zone first, %v with it last", answers[0], answers[1])
			}
		})
	}
	if accepted == 0 {
		t.Error("validation accepts none of the cases")
	}
}

// TestValidatedStaticRecordsAreServed puts a delegation of one zone over
// static records of a zone nested in it: whatever validation accepts, the
// DNS server serves each static record as an answer, not a referral that
// hides it.
func TestValidatedStaticRecordsAreServed(t *testing.T) {
	zone := func(name, apex string, recs ...*v1.StaticRecord) *v1.Object {
		return resource.Wrap(&v1.GslbZone{Metadata: &v1.ObjectMeta{Name: name}, Spec: &v1.GslbZoneSpec{
			Zone: apex, DefaultTtl: 60,
			Soa:         &v1.Soa{Mname: "ns1.example.net.", Rname: "hostmaster.example.net."},
			NameServers: []*v1.NameServer{{Name: "ns1.example.net."}},
			Records:     recs,
		}})
	}
	delegation := &v1.StaticRecord{Name: "x.inner", Type: v1.RecordType_RECORD_TYPE_NS, Values: []string{"ns.example.net."}}
	cases := []struct {
		name  string
		inner *v1.StaticRecord
		ask   string
		qtype uint16
	}{
		{"a TXT record below the delegation", &v1.StaticRecord{Name: "y.x", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{"hello"}}, "y.x.inner.example.com.", dns.TypeTXT},
		{"a TXT record at the delegation", &v1.StaticRecord{Name: "x", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{"hello"}}, "x.inner.example.com.", dns.TypeTXT},
		{"an address below the delegation", &v1.StaticRecord{Name: "www.x", Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"192.0.2.1"}}, "www.x.inner.example.com.", dns.TypeA},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objs := []*v1.Object{zone("outer", "example.com.", delegation), zone("inner", "inner.example.com.", c.inner)}
			st := resource.NewState()
			if err := validation.CheckApply(objs, st, validation.Options{}); err != nil {
				t.Logf("validation: %v", err)
				return
			}
			for _, o := range objs {
				st.Put(o)
			}
			ix, err := Compile(compile.GslbSnapshot(st, compile.Observed{}), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if m := ask(t, ix, c.ask, c.qtype, false); len(m.Answer) == 0 {
				t.Errorf("validation accepts the zones, and %s %s gets no answer (authority %v): the delegation hides it", c.ask, dns.TypeToString[c.qtype], m.Ns)
			}
		})
	}
}
