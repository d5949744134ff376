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

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// testResponder is a responder of a server serving the test snapshot,
// without sockets.
func testResponder(tb testing.TB) *responder {
	tb.Helper()
	return testResponderWith(tb, Config{})
}

// testResponderWith is testResponder of a server configured by cfg
// (identity, cookies, rate limiting, dnstap), with the listen address,
// GeoIP database and logger filled in.
func testResponderWith(tb testing.TB, cfg Config) *responder {
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
	if err := s.Update(gslbtest.Snapshot()); err != nil {
		tb.Fatal(err)
	}
	// The first snapshot is served quick, then refined in the background:
	// let that finish, so that it neither changes answers nor takes CPU
	// from a benchmark.
	s.refining.Wait()
	return s.newResponder(s.metrics.newShard())
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

// FuzzHandle feeds arbitrary bytes to the request handler: it must not
// panic, and it either stays silent or sends a reply that unpacks, carries
// the request's ID and fits the UDP limit.
func FuzzHandle(f *testing.F) {
	r := testResponder(f)
	for _, seed := range [][]byte{
		packed(f, "nearest.gslb.example.com.", dns.TypeA, gslbtest.London),
		packed(f, "NEAREST.gslb.example.com.", dns.TypeAAAA, gslbtest.Tokyo6),
		packed(f, "weighted.gslb.example.com.", dns.TypeA, "0.0.0.0/0"),
		packed(f, "nope.gslb.example.com.", dns.TypeTXT, ""),
		packed(f, "big.gslb.example.com.", dns.TypeTXT, ""),
		packed(f, "www.example.org.", dns.TypeA, ""),
		packed(f, "gslb.example.com.", dns.TypeANY, gslbtest.NewYork),
		{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1},
		{},
	} {
		f.Add(seed)
	}
	dst := make([]byte, 0, maxReply)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		reply := r.handle(dst, pkt, netip.MustParseAddr("192.0.2.1"), false)
		if reply == nil {
			return
		}
		if len(reply) > maxReply {
			t.Fatalf("reply of %d bytes", len(reply))
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
