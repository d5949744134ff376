package dnsgslb

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// realZoneResponder is a responder of a server serving gslbtest.RealZone,
// without sockets. The tests' client network is exempt from rate limiting:
// their queries spend a budget (the referrals below a cut share one) and
// must still be answered.
func realZoneResponder(tb testing.TB) *responder {
	tb.Helper()
	rrl := DefaultRRL()
	rrl.Exempt = append(rrl.Exempt, netip.MustParsePrefix("192.0.2.0/24"))
	s := testServerWith(tb, Config{RRL: &rrl})
	if err := s.Update(gslbtest.RealZone()); err != nil {
		tb.Fatal(err)
	}
	return s.newResponder(s.metrics.newShard(), true)
}

// zoneDataQueries are the answers of the record types beyond addresses:
// static, GSLB HTTPS, name origins, referrals.
var zoneDataQueries = []struct {
	name  string
	qtype uint16
	ecs   string
}{
	{"web.gslb.example.com.", dns.TypeHTTPS, gslbtest.London},
	{"edge.gslb.example.com.", dns.TypeHTTPS, gslbtest.PopTokyo},
	{"cloud.gslb.example.com.", dns.TypeA, gslbtest.Tokyo},
	{"gslb.example.com.", dns.TypeMX, ""},
	{"www.gslb.example.com.", dns.TypeHTTPS, ""},
	{"child.gslb.example.com.", dns.TypeA, ""},
	{"a.b.www.child.gslb.example.com.", dns.TypeAAAA, gslbtest.London},
	{"sel._domainkey.gslb.example.com.", dns.TypeTXT, gslbtest.London},
}

func TestZoneDataDoesNotAllocate(t *testing.T) {
	r := realZoneResponder(t)
	dst := make([]byte, 0, maxReply)
	src := netip.MustParseAddr("192.0.2.1")
	for _, q := range zoneDataQueries {
		pkt := packed(t, q.name, q.qtype, q.ecs)
		reply := r.handle(dst, pkt, src, false)
		var m dns.Msg
		if err := m.Unpack(reply); err != nil || m.Rcode != dns.RcodeSuccess || len(m.Answer)+len(m.Ns) == 0 {
			t.Fatalf("%s %s: reply %v (%v)", q.name, dns.TypeToString[q.qtype], &m, err)
		}
		if n := testing.AllocsPerRun(100, func() { r.handle(dst, pkt, src, false) }); n != 0 {
			t.Errorf("%s %s: %.1f allocations per query, want 0", q.name, dns.TypeToString[q.qtype], n)
		}
	}
}

// BenchmarkHandleZoneData is BenchmarkHandle for zoneDataQueries.
func BenchmarkHandleZoneData(b *testing.B) {
	r := realZoneResponder(b)
	dst := make([]byte, 0, maxReply)
	src := netip.MustParseAddr("192.0.2.1")
	for _, q := range zoneDataQueries {
		pkt := packed(b, q.name, q.qtype, q.ecs)
		b.Run(q.name+"/"+dns.TypeToString[q.qtype], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.handle(dst, pkt, src, false)
			}
		})
	}
}

// FuzzHandleZoneData is FuzzHandle against the zone with delegations,
// HTTPS records and name origins: a referral is assembled from pieces for
// names of any length below the cut.
func FuzzHandleZoneData(f *testing.F) {
	r := realZoneResponder(f)
	for _, q := range zoneDataQueries {
		f.Add(packed(f, q.name, q.qtype, q.ecs))
	}
	f.Add(packed(f, "x.y.z.w.v.u.t.s.r.q.p.o.n.m.l.k.j.i.h.g.f.e.d.c.b.a.child.gslb.example.com.", dns.TypeA, ""))
	dst := make([]byte, 0, maxReply)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		reply := r.handle(dst, pkt, netip.MustParseAddr("192.0.2.1"), false)
		if reply == nil {
			return
		}
		var m dns.Msg
		if err := m.Unpack(reply); err != nil {
			t.Fatalf("reply does not unpack: %v\nrequest % x\nreply % x", err, pkt, reply)
		}
		for _, rr := range append(m.Ns, m.Extra...) {
			if h := rr.Header(); h.Rrtype == dns.TypeNS && !dns.IsSubDomain("child.gslb.example.com.", dns.CanonicalName(h.Name)) {
				t.Fatalf("referral owner %q outside the cut\nrequest % x", h.Name, pkt)
			}
		}
	})
}

// TestNSWithoutAddressesDoesNotAllocate: an apex NS answer sent without
// the addresses that do not fit the client's UDP size (see
// TestApexNSWithoutGlueFits) costs no allocation either.
func TestNSWithoutAddressesDoesNotAllocate(t *testing.T) {
	s := testServerWith(t, Config{RRL: &RRLConfig{}})
	snap := gslbtest.Snapshot()
	spec := snap.Zones[0].Spec
	gslbtest.AddNameServers(spec, 10)
	if err := s.Update(snap); err != nil {
		t.Fatal(err)
	}
	r := s.newResponder(s.metrics.newShard(), true)
	dst := make([]byte, 0, maxReply)
	src := netip.MustParseAddr("192.0.2.1")
	pkt := packed(t, gslbtest.Zone, dns.TypeNS, "")
	var m dns.Msg
	if err := m.Unpack(r.handle(dst, pkt, src, false)); err != nil || m.Truncated || len(m.Answer) != 12 || len(m.Extra) != 0 {
		t.Fatalf("apex NS in 512 bytes: %v (%v), want the 12 NS records alone", &m, err)
	}
	if n := testing.AllocsPerRun(100, func() { r.handle(dst, pkt, src, false) }); n != 0 {
		t.Errorf("%.1f allocations per query, want 0", n)
	}
}
