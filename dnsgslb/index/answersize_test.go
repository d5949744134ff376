package index

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/compile"
	"github.com/anyctl/anyctl/dnsgslb/wire"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation"
)

// TestValidatedAnswersFitOverTCP grows static RRsets past the size of a
// DNS message: validation accepts only those the DNS server answers in
// full over TCP, and refuses those it could only answer with TC, which no
// client can get past; it refuses none of 64,000 bytes or less, what is
// left beside the OPT record and signatures.
func TestValidatedAnswersFitOverTCP(t *testing.T) {
	opts := validation.Options{AllowedPrefixes: validation.DefaultAllowedPrefixes()}
	txt := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s%d", strings.Repeat("x", 4000), i)
		}
		return out
	}
	aaaa := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("2001:db8::%x", i+1)
		}
		return out
	}
	cases := []struct {
		typ    v1.RecordType
		qtype  uint16
		values func(int) []string
		counts []int
	}{
		{v1.RecordType_RECORD_TYPE_TXT, dns.TypeTXT, txt, []int{1, 15, 16, 17, 20}},
		{v1.RecordType_RECORD_TYPE_AAAA, dns.TypeAAAA, aaaa, []int{1, 2000, 2280, 2300, 2500}},
	}
	var accepted, refused int
	for _, c := range cases {
		for _, n := range c.counts {
			z := &v1.GslbZone{Metadata: &v1.ObjectMeta{Name: "z"}, Spec: &v1.GslbZoneSpec{
				Zone:        "example.com.",
				Soa:         &v1.Soa{Mname: "ns1.example.net.", Rname: "hostmaster.example.net.", Minimum: 60},
				NameServers: []*v1.NameServer{{Name: "ns1.example.net."}},
				DefaultTtl:  60,
				Records:     []*v1.StaticRecord{{Name: "big", Type: c.typ, Values: c.values(n)}},
			}}
			st := resource.NewState()
			verr := validation.CheckApply([]*v1.Object{resource.Wrap(z)}, st, opts)
			st.Put(resource.Wrap(z))
			ix, err := Compile(compile.GslbSnapshot(st, compile.Observed{}), Options{})
			if err != nil {
				t.Fatalf("%s × %d: compile: %v", c.typ, n, err)
			}
			m := new(dns.Msg)
			m.SetQuestion("big.example.com.", c.qtype)
			m.SetEdns0(1232, false)
			pkt, err := m.Pack()
			if err != nil {
				t.Fatal(err)
			}
			var q wire.Query
			wire.Parse(pkt, &q)
			out, _ := ix.Respond(make([]byte, 0, dns.MaxMsgSize), &q, netip.MustParseAddr("192.0.2.1"), dns.MaxMsgSize)
			r := new(dns.Msg)
			if err := r.Unpack(out); err != nil {
				t.Fatalf("%s × %d: unpack: %v", c.typ, n, err)
			}
			served := !r.Truncated && len(r.Answer) == n
			t.Logf("%s × %d: %d bytes over TCP, TC %v; validation: %v", c.typ, n, len(out), r.Truncated, verr)
			if verr == nil && !served {
				t.Errorf("%s × %d: validation accepts it, and the DNS server cannot answer it in full over TCP", c.typ, n)
			}
			if verr != nil && served && len(out) <= 64000 {
				t.Errorf("%s × %d: validation refuses an answer of %d bytes: %v", c.typ, n, len(out), verr)
			}
			if verr == nil {
				accepted++
			} else {
				refused++
			}
		}
	}
	if accepted == 0 || refused == 0 {
		t.Errorf("%d accepted, %d refused: the sizes do not straddle the limit", accepted, refused)
	}
}

// TestValidatedZoneDataIsServed applies zone data near the limits of DNS
// (names near 255 bytes once the zone is appended, answers near the size
// of a message): whatever validation accepts, the DNS server answers at
// each of its names, over TCP, with a reply a client can read in full.
func TestValidatedZoneDataIsServed(t *testing.T) {
	long := strings.Repeat("a.", 122) + "xyz" // 247 bytes; 260 in the zone
	many := func(format string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf(format, i+1)
		}
		return out
	}
	rec := func(name string, typ v1.RecordType, values ...string) *v1.StaticRecord {
		return &v1.StaticRecord{Name: name, Type: typ, Values: values}
	}
	cases := []struct {
		name    string
		records []*v1.StaticRecord
		ns      []*v1.NameServer
		ask     map[string][]uint16
	}{
		{"MX exchange past 255 bytes with the zone", []*v1.StaticRecord{rec("@", v1.RecordType_RECORD_TYPE_MX, "10 "+long)}, nil,
			map[string][]uint16{"example.com.": {dns.TypeMX}}},
		{"SVCB target past 255 bytes with the zone", []*v1.StaticRecord{rec("svc", v1.RecordType_RECORD_TYPE_SVCB, "1 "+long)}, nil,
			map[string][]uint16{"svc.example.com.": {dns.TypeSVCB}}},
		{"SRV target past 255 bytes with the zone", []*v1.StaticRecord{rec("_s._tcp", v1.RecordType_RECORD_TYPE_SRV, "1 1 1 "+long)}, nil,
			map[string][]uint16{"_s._tcp.example.com.": {dns.TypeSRV}}},
		{"delegation to a name past 255 bytes with the zone", []*v1.StaticRecord{rec("sub", v1.RecordType_RECORD_TYPE_NS, long)}, nil,
			map[string][]uint16{"sub.example.com.": {dns.TypeNS}}},
		{"name server of 5,000 addresses", nil, []*v1.NameServer{{Name: "ns2", Addresses: many("2001:db8::%x", 5000)}},
			map[string][]uint16{"ns2.example.com.": {dns.TypeAAAA}, "example.com.": {dns.TypeNS}}},
		{"name server of 2,000 addresses", nil, []*v1.NameServer{{Name: "ns2", Addresses: many("2001:db8::%x", 2000)}},
			map[string][]uint16{"ns2.example.com.": {dns.TypeAAAA}, "example.com.": {dns.TypeNS}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			z := &v1.GslbZone{Metadata: &v1.ObjectMeta{Name: "z"}, Spec: &v1.GslbZoneSpec{
				Zone:        "example.com.",
				Soa:         &v1.Soa{Mname: "ns1.example.net.", Rname: "hostmaster.example.net.", Minimum: 60},
				NameServers: append([]*v1.NameServer{{Name: "ns1.example.net."}}, c.ns...),
				DefaultTtl:  60,
				Records:     c.records,
			}}
			st := resource.NewState()
			verr := validation.CheckApply([]*v1.Object{resource.Wrap(z)}, st, validation.Options{})
			t.Logf("validation: %.300v", verr)
			if verr != nil {
				return
			}
			st.Put(resource.Wrap(z))
			ix, err := Compile(compile.GslbSnapshot(st, compile.Observed{}), Options{})
			if err != nil {
				t.Fatalf("validation accepts the zone, and the DNS server refuses it: %v", err)
			}
			for name, types := range c.ask {
				for _, qtype := range types {
					m := new(dns.Msg)
					m.SetQuestion(name, qtype)
					pkt, err := m.Pack()
					if err != nil {
						t.Fatal(err)
					}
					var q wire.Query
					wire.Parse(pkt, &q)
					out, _ := ix.Respond(make([]byte, 0, dns.MaxMsgSize), &q, netip.MustParseAddr("192.0.2.1"), dns.MaxMsgSize)
					r := new(dns.Msg)
					if err := r.Unpack(out); err != nil || r.Truncated {
						t.Errorf("validation accepts the zone, and the reply to %s %s over TCP is unreadable (%v) or truncated (%v)", name, dns.TypeToString[qtype], err, r.Truncated)
					}
				}
			}
		})
	}
}
