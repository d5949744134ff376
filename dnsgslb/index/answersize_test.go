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
