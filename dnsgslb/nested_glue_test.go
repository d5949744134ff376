package dnsgslb_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestGlueInANestedZone serves a zone and one nested in it, each holding
// the addresses the other's name servers need: a name server of the
// outer zone inside the nested one, listed without addresses, answered
// by the nested zone; a delegation of the outer zone whose name server's
// A record the nested zone holds; and a delegation of the nested zone
// whose name server's A record the outer zone holds. A query at each
// name server gets its address, and each referral carries it as glue:
// what validation accepts there is what is served.
func TestGlueInANestedZone(t *testing.T) {
	snap := gslbtest.Snapshot()
	outer := snap.GetZones()[0]
	inner := "sub." + gslbtest.Zone
	a, ns := v1.RecordType_RECORD_TYPE_A, v1.RecordType_RECORD_TYPE_NS
	outer.Spec.NameServers = append(outer.Spec.NameServers, &v1.NameServer{Name: "ns3.sub"})
	outer.Spec.Records = append(outer.Spec.Records,
		&v1.StaticRecord{Name: "x.sub", Type: ns, Ttl: 3600, Values: []string{"ns.x.sub"}},
		&v1.StaticRecord{Name: "ns.y.sub", Type: a, Ttl: 3600, Values: []string{"192.0.2.57"}},
	)
	snap.Zones = append(snap.Zones, &v1.GslbZone{Metadata: &v1.ObjectMeta{Name: "sub"}, Spec: &v1.GslbZoneSpec{
		Zone:        inner,
		Soa:         &v1.Soa{Mname: "ns2.example.net.", Rname: "hostmaster.example.net.", Serial: 1, Refresh: 3600, Retry: 600, Expire: 1209600, Minimum: 60},
		NameServers: []*v1.NameServer{{Name: "ns3", Addresses: []string{"192.0.2.55"}}, {Name: "ns2.example.net."}},
		DefaultTtl:  60,
		Records: []*v1.StaticRecord{
			{Name: "ns.x", Type: a, Ttl: 3600, Values: []string{"192.0.2.56"}},
			{Name: "y", Type: ns, Ttl: 3600, Values: []string{"ns.y"}},
		},
	}})
	ts := run(t, newServerWith(t, dnsgslb.Config{}, snap))
	lines := func(rrs []dns.RR) []string {
		var out []string
		for _, rr := range rrs {
			if rr.Header().Rrtype != dns.TypeOPT {
				out = append(out, strings.Join(strings.Fields(rr.String()), " "))
			}
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		name             string
		qtype            uint16
		aa               bool
		answer, ns, glue []string
	}{
		{"ns3." + inner, dns.TypeA, true, []string{"ns3." + inner + " 60 IN A 192.0.2.55"}, nil, nil},
		{gslbtest.Zone, dns.TypeNS, true, nil, nil, nil},
		{"www.x." + inner, dns.TypeA, false, nil, []string{"x." + inner + " 3600 IN NS ns.x." + inner}, []string{"ns.x." + inner + " 3600 IN A 192.0.2.56"}},
		{"www.y." + inner, dns.TypeA, false, nil, []string{"y." + inner + " 3600 IN NS ns.y." + inner}, []string{"ns.y." + inner + " 3600 IN A 192.0.2.57"}},
	} {
		r := ts.exchange(t, "tcp", msg(t, tc.name, tc.qtype, ""))
		q := tc.name + " " + dns.TypeToString[tc.qtype]
		if r.Rcode != dns.RcodeSuccess || r.Authoritative != tc.aa {
			t.Errorf("%s: rcode %s, aa %t; want NOERROR, aa %t", q, dns.RcodeToString[r.Rcode], r.Authoritative, tc.aa)
		}
		if tc.qtype == dns.TypeNS {
			if !slices.Contains(lines(r.Answer), gslbtest.Zone+" 300 IN NS ns3."+inner) {
				t.Errorf("%s: answer %q lacks ns3.%s", q, lines(r.Answer), inner)
			}
			continue
		}
		if got := lines(r.Answer); !slices.Equal(got, tc.answer) {
			t.Errorf("%s: answer %q, want %q", q, got, tc.answer)
		}
		if got := lines(r.Ns); !slices.Equal(got, tc.ns) {
			t.Errorf("%s: authority %q, want %q", q, got, tc.ns)
		}
		if got := lines(r.Extra); !slices.Equal(got, tc.glue) {
			t.Errorf("%s: additional %q, want %q", q, got, tc.glue)
		}
	}
}
