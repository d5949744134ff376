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

// TestRelativeZoneNamesServedInZone applies a zone whose name servers and
// SOA names are written relative to it, as validation reads them ("ns2"
// is "ns2.<zone>.", and needs glue): the DNS server, given the snapshot
// the controller compiles, serves them in the zone, with the glue, not as
// names under the root.
func TestRelativeZoneNamesServedInZone(t *testing.T) {
	z := resource.Wrap(&v1.GslbZone{Metadata: &v1.ObjectMeta{Name: "z"}, Spec: &v1.GslbZoneSpec{
		Zone:        "example.com.",
		Soa:         &v1.Soa{Mname: "ns2", Rname: "Hostmaster", Minimum: 60},
		NameServers: []*v1.NameServer{{Name: "ns1.example.net."}, {Name: "NS2", Addresses: []string{"192.0.2.53"}}},
		DefaultTtl:  60,
	}})
	st := resource.NewState()
	if err := validation.CheckApply([]*v1.Object{z}, st, validation.Options{}); err != nil {
		t.Fatalf("validation refuses the zone: %v", err)
	}
	st.Put(z)
	st.Revision = 1
	ix, err := Compile(compile.GslbSnapshot(st, compile.Observed{}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, rr := range ask(t, ix, "example.com.", dns.TypeNS, false).Answer {
		ns = append(ns, rr.(*dns.NS).Ns)
	}
	if want := []string{"ns1.example.net.", "ns2.example.com."}; !slices.Equal(ns, want) {
		t.Errorf("NS %v, want %v", ns, want)
	}
	if a := ask(t, ix, "ns2.example.com.", dns.TypeA, false).Answer; len(a) != 1 || a[0].(*dns.A).A.String() != "192.0.2.53" {
		t.Errorf("ns2.example.com. A: %v, want its glue 192.0.2.53", a)
	}
	soa := ask(t, ix, "example.com.", dns.TypeSOA, false).Answer
	if len(soa) != 1 {
		t.Fatalf("SOA answer %v", soa)
	}
	if s := soa[0].(*dns.SOA); s.Ns != "ns2.example.com." || s.Mbox != "hostmaster.example.com." {
		t.Errorf("SOA mname %q rname %q, want %q and %q", s.Ns, s.Mbox, "ns2.example.com.", "hostmaster.example.com.")
	}
}
