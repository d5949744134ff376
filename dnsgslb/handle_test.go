package dnsgslb

import (
	"encoding/binary"
	"encoding/hex"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// testResponder is a responder of a server serving the test snapshot,
// without sockets.
func testResponder(tb testing.TB) *responder {
	tb.Helper()
	return testResponderWith(tb, Config{})
}

// testServerWith is a server configured by cfg (identity, cookies, rate
// limiting, dnstap), with the listen address, the example GeoIP database
// and a quiet logger filled in, serving no snapshot yet and not running.
func testServerWith(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "city.mmdb")
	if err := geotest.Write(path, geotest.Networks); err != nil {
		tb.Fatal(err)
	}
	cfg.Listen, cfg.GeoIPPath, cfg.Logger = "127.0.0.1:0", path, slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// testResponderWith is testResponder of a server configured by cfg (see
// testServerWith).
func testResponderWith(tb testing.TB, cfg Config) *responder {
	tb.Helper()
	s := testServerWith(tb, cfg)
	if err := s.Update(gslbtest.Snapshot()); err != nil {
		tb.Fatal(err)
	}
	// The first snapshot is served quick, then refined in the background:
	// let that finish, so that it neither changes answers nor takes CPU
	// from a benchmark.
	s.refining.Wait()
	return s.newResponder(s.metrics.newShard(), true)
}

func packed(tb testing.TB, name string, qtype uint16, ecs string, opts ...dns.EDNS0) []byte {
	tb.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if len(opts) > 0 {
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = opts
	}
	if ecs != "" {
		if m.IsEdns0() == nil {
			m.SetEdns0(1232, false)
		}
		p := netip.MustParsePrefix(ecs)
		fam := uint16(1)
		if p.Addr().Is6() {
			fam = 2
		}
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: fam, SourceNetmask: uint8(p.Bits()), Address: p.Addr().AsSlice()})
	}
	b, err := m.Pack()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzHandle feeds arbitrary bytes to the request handler of a server
// with an identity long enough to fill replies (NSID): see fuzzReplies.
func FuzzHandle(f *testing.F) {
	r := testResponderWith(f, Config{Identity: "ns1.fra.example.net." + strings.Repeat("padding.", 12) + "x"})
	nsid := &dns.EDNS0_NSID{Code: dns.EDNS0NSID}
	ck := &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}
	fuzzReplies(f, r, [][]byte{
		packed(f, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London),
		packed(f, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London, nsid, ck),
		packed(f, "NEAREST.gslb.example.com.", dns.TypeAAAA, gslbtest.Tokyo6, nsid),
		packed(f, "weighted.gslb.example.com.", dns.TypeA, "0.0.0.0/0"),
		packed(f, "nope.gslb.example.com.", dns.TypeTXT, ""),
		packed(f, "nope.gslb.example.com.", dns.TypeA, "2001:db8::/128", nsid, ck),
		packed(f, "big.gslb.example.com.", dns.TypeTXT, "", nsid, ck),
		packed(f, "www.example.org.", dns.TypeA, ""),
		packed(f, "gslb.example.com.", dns.TypeANY, gslbtest.NewYork, nsid, ck),
		packed(f, "gslb.example.com.", dns.TypeNS, "", nsid),
		{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1},
		{},
	})
}

// FuzzHandleSigned is FuzzHandle on a signed zone, the seeds asking for
// signatures (DO) within 512 bytes.
func FuzzHandleSigned(f *testing.F) {
	dir := f.TempDir()
	if _, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Hour)); err != nil {
		f.Fatal(err)
	}
	r := testResponderWith(f, Config{Identity: strings.Repeat("n", 128), DNSSECKeyDir: dir})
	nsid := &dns.EDNS0_NSID{Code: dns.EDNS0NSID}
	ck := &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}
	do := func(b []byte) []byte {
		var m dns.Msg
		if err := m.Unpack(b); err != nil {
			f.Fatal(err)
		}
		m.IsEdns0().SetDo()
		m.IsEdns0().SetUDPSize(512)
		out, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		return out
	}
	fuzzReplies(f, r, [][]byte{
		do(packed(f, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London, nsid, ck)),
		do(packed(f, "many.gslb.example.com.", dns.TypeA, gslbtest.London, nsid, ck)),
		do(packed(f, "big.gslb.example.com.", dns.TypeTXT, "", nsid, ck)),
		do(packed(f, "gslb.example.com.", dns.TypeANY, gslbtest.NewYork, nsid, ck)),
		do(packed(f, "nope.gslb.example.com.", dns.TypeA, "2001:db8::/128", nsid, ck)),
		do(packed(f, "a.b.c.d.e.f.nope.gslb.example.com.", dns.TypeAAAA, "2001:db8::/128", nsid, ck)),
		do(packed(f, "gslb.example.com.", dns.TypeDNSKEY, "", nsid)),
		do(packed(f, "gslb.example.com.", dns.TypeNS, "", nsid)),
	})
}

// fuzzReplies feeds the seeds and arbitrary bytes to r's request handler:
// it must not panic, and it either stays silent or writes into the
// caller's buffer (the UDP worker sends from it, not from the slice
// returned) a reply that unpacks, carries the request's ID and QR, and
// fits the client's UDP limit (512 bytes, or its EDNS size up to 1,232).
func fuzzReplies(f *testing.F, r *responder, seeds [][]byte) {
	for _, seed := range seeds {
		f.Add(seed)
	}
	buf := make([]byte, maxReply)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		reply := r.handle(buf[:0], pkt, netip.MustParseAddr("192.0.2.1"), false)
		if reply == nil {
			return
		}
		if unsafe.SliceData(reply) != unsafe.SliceData(buf) || len(reply) > maxReply {
			t.Fatalf("reply of %d bytes not written into the buffer given\nrequest % x", len(reply), pkt)
		}
		var m dns.Msg
		if err := m.Unpack(reply); err != nil {
			t.Fatalf("reply does not unpack: %v\nrequest % x\nreply % x", err, pkt, reply)
		}
		if len(pkt) < 2 || m.Id != binary.BigEndian.Uint16(pkt) {
			t.Fatalf("reply ID %d for request % x", m.Id, pkt)
		}
		if !m.Response {
			t.Fatalf("reply without QR: % x", reply)
		}
		var req dns.Msg
		if req.Unpack(pkt) != nil {
			return
		}
		limit := 512
		if o := req.IsEdns0(); o != nil {
			limit = max(512, min(int(o.UDPSize()), 1232))
		}
		if len(reply) > limit {
			t.Fatalf("reply of %d bytes over the client's limit of %d\nrequest % x", len(reply), limit, pkt)
		}
	})
}

func TestHandleDoesNotAllocate(t *testing.T) {
	r := testResponder(t)
	dst := make([]byte, 0, maxReply)
	src := netip.MustParseAddr("192.0.2.1")
	for _, q := range []struct {
		name  string
		qtype uint16
		ecs   string
	}{
		{"nearest.gslb.example.com.", dns.TypeA, gslbtest.London},
		{"nearest.gslb.example.com.", dns.TypeAAAA, gslbtest.Tokyo6},
		{"weighted.gslb.example.com.", dns.TypeA, gslbtest.NewYork},
		{"www.gslb.example.com.", dns.TypeA, ""},
		{"nope.gslb.example.com.", dns.TypeA, gslbtest.London},
		{"www.example.org.", dns.TypeA, ""},
	} {
		pkt := packed(t, q.name, q.qtype, q.ecs)
		if n := testing.AllocsPerRun(100, func() { r.handle(dst, pkt, src, false) }); n != 0 {
			t.Errorf("%s %s: %.1f allocations per query, want 0", q.name, dns.TypeToString[q.qtype], n)
		}
	}
}

// optionQueries are queries carrying NSID and cookies: a client cookie
// alone, with a server cookie r made for src, and with a forged one
// (BADCOOKIE).
func optionQueries(tb testing.TB, r *responder, src netip.Addr) map[string][]byte {
	client := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	server := r.s.jar.Make(&client, src, uint32(time.Now().Unix()))
	valid := hex.EncodeToString(client[:]) + hex.EncodeToString(server[:])
	forged := hex.EncodeToString(client[:]) + "01000000" + strings.Repeat("ab", 12)
	nsid := &dns.EDNS0_NSID{Code: dns.EDNS0NSID}
	ck := func(h string) *dns.EDNS0_COOKIE { return &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: h} }
	return map[string][]byte{
		"nsid+client cookie":                packed(tb, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London, nsid, ck(hex.EncodeToString(client[:]))),
		"nsid+valid server cookie":          packed(tb, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London, nsid, ck(valid)),
		"nsid+valid server cookie AAAA":     packed(tb, "nearest.gslb.example.com.", dns.TypeAAAA, gslbtest.Tokyo6, nsid, ck(valid)),
		"nsid+valid server cookie NXDOMAIN": packed(tb, "nope.gslb.example.com.", dns.TypeA, "", nsid, ck(valid)),
		"forged server cookie":              packed(tb, "www.gslb.example.com.", dns.TypeA, "", ck(forged)),
		"CH TXT id.server": func() []byte {
			m := new(dns.Msg)
			m.SetQuestion("id.server.", dns.TypeTXT)
			m.Question[0].Qclass = dns.ClassCHAOS
			b, _ := m.Pack()
			return b
		}(),
		"AXFR": packed(tb, "gslb.example.com.", dns.TypeAXFR, ""),
	}
}

// TestHandleOptionsDoNotAllocate: NSID, cookies, CHAOS and the new error
// replies cost no allocation on the UDP path either. Rate limiting is off:
// a few hundred error replies to one network would exhaust its budget
// (its own allocations are BenchmarkHandleRRL's).
func TestHandleOptionsDoNotAllocate(t *testing.T) {
	r := testResponderWith(t, Config{Identity: "ns1.fra.example.net", RRL: &RRLConfig{}})
	dst := make([]byte, 0, maxReply)
	src := netip.MustParseAddr("192.0.2.1")
	for desc, pkt := range optionQueries(t, r, src) {
		if reply := r.handle(dst, pkt, src, false); reply == nil {
			t.Fatalf("%s: no reply", desc)
		}
		if n := testing.AllocsPerRun(100, func() { r.handle(dst, pkt, src, false) }); n != 0 {
			t.Errorf("%s: %.1f allocations per query, want 0", desc, n)
		}
	}
}

// TestChaosReplyRcodeForRRL: a CHAOS answer is rate limited as a
// NOERROR answer of no zone, not as whatever the query before it was: after
// a BADVERS reply, which spends that budget, a client's CH TXT id.server.
// is answered in full and with NOERROR.
func TestChaosReplyRcodeForRRL(t *testing.T) {
	r := testResponderWith(t, Config{Identity: "ns1.example.net", RRL: &RRLConfig{ResponsesPerSecond: 1, Slip: 1}})
	src := netip.MustParseAddr("192.0.2.1")
	dst := make([]byte, 0, maxReply)

	var m dns.Msg
	if err := m.Unpack(packed(t, "www.gslb.example.com.", dns.TypeA, "")); err != nil {
		t.Fatal(err)
	}
	m.SetEdns0(1232, false)
	m.IsEdns0().SetVersion(1)
	bad, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	var got dns.Msg
	if err := got.Unpack(r.handle(dst, bad, src, false)); err != nil || got.Rcode != dns.RcodeBadVers {
		t.Fatalf("EDNS version 1: rcode %s (%v), want BADVERS", dns.RcodeToString[got.Rcode], err)
	}

	ch := new(dns.Msg)
	ch.SetQuestion("id.server.", dns.TypeTXT)
	ch.Question[0].Qclass = dns.ClassCHAOS
	ch.SetEdns0(1232, false)
	chb, err := ch.Pack()
	if err != nil {
		t.Fatal(err)
	}
	reply := r.handle(dst, chb, src, false)
	if reply == nil {
		t.Fatal("CH TXT id.server. after BADVERS: dropped, want an answer")
	}
	got = dns.Msg{}
	if err := got.Unpack(reply); err != nil {
		t.Fatal(err)
	}
	if got.Rcode != dns.RcodeSuccess || got.Truncated || len(got.Answer) != 1 {
		t.Errorf("CH TXT id.server. after BADVERS: rcode %s, TC %v, %d answers; want NOERROR, no TC, the identity", dns.RcodeToString[got.Rcode], got.Truncated, len(got.Answer))
	}
}
