package dnsgslb

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"testing"
	"time"

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

// BenchmarkOptions compares the UDP answer path of a server with NSID and
// cookies off (a plain EDNS query to a server with neither) and on (a
// query asking for NSID with a valid server cookie, to a server with an
// identity: the cookie is checked and a fresh one made, two SipHash-2-4
// runs, and the reply carries both options).
func BenchmarkOptions(b *testing.B) {
	src := netip.MustParseAddr("192.0.2.1")
	dst := make([]byte, 0, maxReply)
	off := testResponderWith(b, Config{NoCookies: true})
	on := testResponderWith(b, Config{Identity: "ns1.fra.example.net"})
	for _, name := range []string{"nearest.gslb.example.com.", "www.gslb.example.com."} {
		plain := packed(b, name, dns.TypeA, gslbtest.London)
		b.Run(name+"/off", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				off.handle(dst, plain, src, false)
			}
		})
		client := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
		server := on.s.jar.Make(&client, src, uint32(time.Now().Unix()))
		withOpts := packed(b, name, dns.TypeA, gslbtest.London, &dns.EDNS0_NSID{Code: dns.EDNS0NSID},
			&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: hex.EncodeToString(client[:]) + hex.EncodeToString(server[:])})
		b.Run(name+"/nsid+cookies", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				on.handle(dst, withOpts, src, false)
			}
		})
	}
}
