package dnsgslb

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// BenchmarkHandle is the UDP answer path without the socket: parse, locate,
// select, copy and patch the pre-packed answer, count.
func BenchmarkHandle(b *testing.B) {
	r := testResponder(b)
	dst := make([]byte, 0, maxReply)
	src := netip.MustParseAddr("192.0.2.1")
	for _, q := range []struct {
		name  string
		qtype uint16
		ecs   string
	}{
		{"nearest.gslb.example.com.", dns.TypeA, gslbtest.London},
		{"nearest.gslb.example.com.", dns.TypeAAAA, gslbtest.Tokyo6},
		{"latency.gslb.example.com.", dns.TypeA, gslbtest.PopTokyo},
		{"weighted.gslb.example.com.", dns.TypeA, gslbtest.NewYork},
		{"www.gslb.example.com.", dns.TypeA, ""},
		{"nope.gslb.example.com.", dns.TypeA, gslbtest.London},
	} {
		pkt := packed(b, q.name, q.qtype, q.ecs)
		b.Run(fmt.Sprintf("%s/%s/ecs=%s", q.name, dns.TypeToString[q.qtype], q.ecs), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.handle(dst, pkt, src, false)
			}
		})
	}
}
