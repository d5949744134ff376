package index

import (
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation"
	"github.com/miekg/dns"
)

// TestNameServersAsValidated checks that validation reads a zone's name
// server names as the index serves them: for every way of writing one,
// a zone that validation accepts is served with the name server the
// operator meant, and a name server the index places inside the zone is
// answered with addresses. Validation once read every name as absolute
// while the index reads one without a trailing dot as relative, so
// "ns1.gslb.example.com" was accepted and served as
// "ns1.gslb.example.com.gslb.example.com.", and "ns3.example.net" without
// addresses as a name server inside the zone that nothing answered.
func TestNameServersAsValidated(t *testing.T) {
	cases := []struct {
		name  string
		addrs []string
		want  string // the name server served; "" when validation refuses it
	}{
		{"ns1.gslb.example.com.", []string{"192.0.2.53"}, "ns1.gslb.example.com."},
		{"ns1", []string{"192.0.2.53"}, "ns1.gslb.example.com."},
		{"NS1.eu", []string{"2001:db8::53"}, "ns1.eu.gslb.example.com."},
		{"ns1.example.net.", nil, "ns1.example.net."},
		{"ns1.gslb.example.com", []string{"192.0.2.53"}, ""},
		{"ns1.example.net", nil, ""},
		{"ns1", nil, ""},
		{"ns1.gslb.example.com.", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			zone := &v1.GslbZone{
				Metadata: &v1.ObjectMeta{Name: "gslb"},
				Spec: &v1.GslbZoneSpec{
					Zone:        "gslb.example.com.",
					Soa:         &v1.Soa{Mname: "ns9.example.net.", Rname: "hostmaster.example.com.", Minimum: 60},
					NameServers: []*v1.NameServer{{Name: tc.name, Addresses: tc.addrs}},
					DefaultTtl:  60,
				},
			}
			opts := validation.Options{AllowedPrefixes: validation.DefaultAllowedPrefixes()}
			err := validation.CheckApply([]*v1.Object{resource.Wrap(zone)}, nil, opts)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("validation accepts name server %q with addresses %v", tc.name, tc.addrs)
				}
				return
			}
			if err != nil {
				t.Fatalf("validation refuses name server %q: %v", tc.name, err)
			}
			ix, err := Compile(&v1.GslbSnapshot{Zones: []*v1.GslbZone{zone}}, Options{})
			if err != nil {
				t.Fatalf("validation accepts name server %q, the index cannot build it: %v", tc.name, err)
			}
			r := ask(t, ix, "gslb.example.com.", dns.TypeNS, false)
			if len(r.Answer) != 1 {
				t.Fatalf("NS answer: %v", r.Answer)
			}
			if got := r.Answer[0].(*dns.NS).Ns; got != tc.want {
				t.Errorf("name server %q is served as %q, want %q", tc.name, got, tc.want)
			}
			if !dns.IsSubDomain("gslb.example.com.", tc.want) {
				return
			}
			var addrs int
			for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
				addrs += len(ask(t, ix, tc.want, qtype, false).Answer)
			}
			if addrs != len(tc.addrs) {
				t.Errorf("name server %q inside the zone: %d addresses answered, want %d", tc.want, addrs, len(tc.addrs))
			}
		})
	}
}
