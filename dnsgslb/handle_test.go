package dnsgslb

import (
	"encoding/binary"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"

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

// testResponderWith is testResponder of a server configured by cfg, with
// the listen address, GeoIP database and logger filled in.
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

func packed(tb testing.TB, name string, qtype uint16, ecs string) []byte {
	tb.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if ecs != "" {
		m.SetEdns0(1232, false)
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
