package dnsgslb

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	"github.com/anyctl/anyctl/dnsgslb/index"
)

// BenchmarkHandle is the UDP answer path without the socket: parse, locate,
// select, copy and patch the pre-packed answer, count. Rate limiting is
// off (see BenchmarkHandleRRL).
func BenchmarkHandle(b *testing.B) {
	r := testResponderWith(b, Config{RRL: &RRLConfig{}})
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

// BenchmarkHandleSigned is BenchmarkHandle's queries to a server with the
// zone unsigned (no DO bit) and signed (a CSK, ECDSA P-256; the DO bit
// set: the signed form of each answer, NXDOMAIN put together from its
// pre-signed pieces), and signed with the records that can be answered
// live assembled at query time (signed+DO+live: the answer RRs, then the
// RRSIG made for that RRset).
func BenchmarkHandleSigned(b *testing.B) {
	dir := b.TempDir()
	if _, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Hour)); err != nil {
		b.Fatal(err)
	}
	plain := testResponderWith(b, Config{RRL: &RRLConfig{}})
	signed := testResponderWith(b, Config{RRL: &RRLConfig{}, DNSSECKeyDir: dir})
	saved := index.SetLiveBudget(0)
	live := testResponderWith(b, Config{RRL: &RRLConfig{}, DNSSECKeyDir: dir})
	index.SetLiveBudget(saved)
	dst := make([]byte, 0, maxReply)
	src := netip.MustParseAddr("192.0.2.1")
	for _, q := range []struct {
		name  string
		qtype uint16
		ecs   string
	}{
		{"nearest.gslb.example.com.", dns.TypeA, gslbtest.London},
		{"nearest.gslb.example.com.", dns.TypeAAAA, gslbtest.Tokyo6},
		{"www.gslb.example.com.", dns.TypeA, gslbtest.London},
		{"nope.gslb.example.com.", dns.TypeA, gslbtest.London},
	} {
		pkt := packed(b, q.name, q.qtype, q.ecs)
		m := new(dns.Msg)
		if err := m.Unpack(pkt); err != nil {
			b.Fatal(err)
		}
		m.IsEdns0().SetDo()
		do, err := m.Pack()
		if err != nil {
			b.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			r    *responder
			pkt  []byte
		}{{"unsigned", plain, pkt}, {"signed+DO", signed, do}, {"signed+DO+live", live, do}} {
			reply := new(dns.Msg)
			if err := reply.Unpack(tc.r.handle(dst, tc.pkt, src, false)); err != nil {
				b.Fatal(err)
			}
			if sigs := strings.Count(reply.String(), "\tRRSIG\t"); (sigs > 0) != (tc.name != "unsigned") {
				b.Fatalf("%s %s %s: %d RRSIGs in\n%s", tc.name, q.name, dns.TypeToString[q.qtype], sigs, reply)
			}
			b.Run(fmt.Sprintf("%s/%s/%s", q.name, dns.TypeToString[q.qtype], tc.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					tc.r.handle(dst, tc.pkt, src, false)
				}
			})
		}
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

// BenchmarkHandleRRL is BenchmarkHandle's first query with rate limiting
// off, on and within budget (clients from 4096 networks, 1,000,000 a
// second each), and on and over budget (one client, 1 a second, every
// reply dropped).
func BenchmarkHandleRRL(b *testing.B) {
	pkt := packed(b, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London)
	dst := make([]byte, 0, maxReply)
	var srcs [4096]netip.Addr
	for i := range srcs {
		srcs[i] = netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})
	}
	for _, bc := range []struct {
		name  string
		cfg   RRLConfig
		nsrcs int
	}{
		{"off", RRLConfig{}, len(srcs)},
		{"on-allowed", RRLConfig{ResponsesPerSecond: 1_000_000, Slip: 2}, len(srcs)},
		{"on-limited", RRLConfig{ResponsesPerSecond: 1, Slip: 0}, 1},
	} {
		r := testResponderWith(b, Config{RRL: &bc.cfg})
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				r.handle(dst, pkt, srcs[i%bc.nsrcs], false)
				i++
			}
		})
	}
}

// BenchmarkHandleDnstap is BenchmarkHandle's first query with dnstap off,
// and on, writing to a file, every query or one in 100. A query that finds
// the queue full (the writer behind) is dropped from the log, not waited
// for: the drops are reported.
func BenchmarkHandleDnstap(b *testing.B) {
	pkt := packed(b, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London)
	dst := make([]byte, 0, maxReply)
	src := netip.MustParseAddr("192.0.2.1")
	for _, bc := range []struct {
		name   string
		sample int
		on     bool
	}{{"off", 0, false}, {"on-all", 1, true}, {"on-1in100", 100, true}} {
		cfg := Config{RRL: &RRLConfig{}}
		if bc.on {
			cfg.Dnstap = DnstapConfig{Output: filepath.Join(b.TempDir(), "bench.dnstap"), Sample: bc.sample}
		}
		r := testResponderWith(b, cfg)
		stop, err := r.s.startTap()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var dropped uint64
			if r.tap != nil {
				dropped = r.tap.dropped.Load()
			}
			for b.Loop() {
				r.handle(dst, pkt, src, false)
			}
			if r.tap != nil {
				b.ReportMetric(float64(r.tap.dropped.Load()-dropped)/float64(b.N), "dropped/op")
			}
		})
		stop()
	}
}

// BenchmarkHandleDefault is the answer path as bench/dns.sh drives the
// default server: the default rate limiting (loopback exempt, but every
// reply counted against its budget), queries from 127.0.0.1, a mix of geo
// answers with IPv4 and IPv6 ECS, a static name and an NXDOMAIN, the
// limiter's clock read once per batch of 4 as a UDP worker does.
func BenchmarkHandleDefault(b *testing.B) {
	r := testResponderWith(b, Config{})
	dst := make([]byte, 0, maxReply)
	src := netip.MustParseAddr("127.0.0.1")
	var pkts [][]byte
	for _, q := range []struct {
		name  string
		qtype uint16
		ecs   string
	}{
		{"nearest.gslb.example.com.", dns.TypeA, gslbtest.London},
		{"nearest.gslb.example.com.", dns.TypeAAAA, gslbtest.Tokyo6},
		{"nearest.gslb.example.com.", dns.TypeA, gslbtest.NewYork},
		{"www.gslb.example.com.", dns.TypeA, ""},
		{"nope.gslb.example.com.", dns.TypeA, gslbtest.London},
	} {
		pkts = append(pkts, packed(b, q.name, q.qtype, q.ecs))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%4 == 0 {
			r.endBatch()
			r.stampBatch()
		}
		r.handle(dst, pkts[i%len(pkts)], src, false)
		i++
	}
}
