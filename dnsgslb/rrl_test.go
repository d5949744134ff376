package dnsgslb_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// Loopback networks the RRL tests query from; the kernel delivers any
// 127/8 source locally. Each is its own /24, so its own budget.
const (
	floodSource  = "127.0.1.1"
	exemptSource = "127.0.2.1"
	popSource    = "127.0.3.1"
)

// amplifier is the snapshot with a name of 71 A records (an answer of
// about 1.2 kB to a query of 50 bytes) and a PoP cache network on loopback.
func amplifier() *v1.GslbSnapshot {
	snap := gslbtest.Snapshot()
	many := &v1.StaticRecord{Name: "many", Type: v1.RecordType_RECORD_TYPE_A}
	for i := range 71 {
		many.Values = append(many.Values, fmt.Sprintf("192.0.2.%d", 100+i))
	}
	spec := snap.Zones[0].Spec
	spec.Records = append(spec.Records, many)
	snap.Pops[0].CacheNetworks = append(snap.Pops[0].CacheNetworks, "127.0.3.0/24")
	return snap
}

// manyQuery is the amplifying query: EDNS with a 1232-byte payload, so that
// the whole answer fits.
func manyQuery(t testing.TB) []byte {
	m := new(dns.Msg)
	m.SetQuestion("many.gslb.example.com.", dns.TypeA)
	m.SetEdns0(1232, false)
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// flooded is what a flood of queries got back.
type flooded struct {
	sent, full, truncated int
	// received is the number of queries the server read (its queries
	// metric): a socket buffer overflowing under the flood loses some.
	received int
	// bytesIn and bytesOut are the bytes of the queries the server read
	// and of the replies the client did.
	bytesIn, bytesOut int
	elapsed           time.Duration
}

func (f flooded) amplification() float64 { return float64(f.bytesOut) / float64(f.bytesIn) }

// queriesRead sums the server's queries metric.
func queriesRead(t testing.TB, s *dnsgslb.Server) int {
	n := 0.0
	for k, v := range gather(t, s) {
		if strings.HasPrefix(k, "anyctl_dns_queries_total{") {
			n += v
		}
	}
	return int(n)
}

// flood sends n copies of q from local, at up to 100,000 a second, reading
// replies beside it until none came for a second after the last send.
func flood(t testing.TB, ts *testServer, local string, q []byte, n int) flooded {
	t.Helper()
	return floodEach(t, ts, local, func(int) []byte { return q }, n)
}

// floodEach is flood with query(i) as the i-th query, all of one size.
func floodEach(t testing.TB, ts *testServer, local string, query func(i int) []byte, n int) flooded {
	t.Helper()
	q := query(0)
	server := ts.udp
	read := queriesRead(t, ts.Server)
	la := &net.UDPAddr{IP: net.ParseIP(local)}
	ra, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", la, ra)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Hold every reply: 20,000 full answers outrun one reader.
	forceReadBuffer(c, 64<<20)
	res := flooded{sent: n}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		var m dns.Msg
		for {
			c.SetReadDeadline(time.Now().Add(time.Second))
			k, err := c.Read(buf)
			if err != nil {
				return
			}
			res.bytesOut += k
			if m.Unpack(buf[:k]) != nil {
				t.Errorf("a reply does not unpack")
				continue
			}
			if m.Truncated {
				res.truncated++
			} else {
				res.full++
			}
		}
	}()
	start := time.Now()
	for i := range n {
		if _, err := c.Write(query(i)); err != nil {
			t.Fatal(err)
		}
		if i%200 == 199 {
			time.Sleep(2 * time.Millisecond) // pacing only: no correctness rests on it
		}
	}
	res.elapsed = time.Since(start)
	<-done
	res.received = queriesRead(t, ts.Server) - read
	res.bytesIn = res.received * len(q)
	return res
}

// gather reads the server's metrics as name{labels} → value.
func gather(t testing.TB, s *dnsgslb.Server) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(s.Collector()); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			got[f.GetName()+"{"+strings.Join(labels, ",")+"}"] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return got
}

// TestRRL floods a name of 71 A records from one source over real UDP:
// beyond the budget (100 a second and 100 at once) every reply is limited,
// every second one sent truncated; an exempt network, a PoP's cache
// network and TCP are not limited.
func TestRRL(t *testing.T) {
	cfg := dnsgslb.DefaultRRL()
	cfg.Exempt = []netip.Prefix{netip.MustParsePrefix(exemptSource + "/32")}
	ts := run(t, newServerWith(t, dnsgslb.Config{RRL: &cfg}, amplifier()))
	q := manyQuery(t)

	f := flood(t, ts, floodSource, q, 20_000)
	m := gather(t, ts.Server)
	limited, slipped, dropped := m["anyctl_dns_rrl_limited_total{}"], m["anyctl_dns_rrl_slipped_total{}"], m["anyctl_dns_rrl_dropped_total{}"]
	t.Logf("20000 queries sent in %v, %d read by the server: %d full answers, %d truncated received; server: %v limited, %v slipped, %v dropped", f.elapsed.Round(time.Millisecond), f.received, f.full, f.truncated, limited, slipped, dropped)
	if f.received < 10_000 {
		t.Fatalf("the server read %d of 20000 queries: too few to judge", f.received)
	}
	// The budget allows 100 at once and 100 a second; the reads end a
	// second after the last send.
	if most := 100 * (2 + f.elapsed.Seconds()); float64(f.full) > most {
		t.Errorf("%d full answers in %v: want at most %.0f", f.full, f.elapsed, most)
	}
	if int(limited)+f.full != f.received || limited != slipped+dropped || slipped-dropped > 1 || dropped-slipped > 1 {
		t.Errorf("limited %v slipped %v dropped %v with %d full answers to %d queries: want limited = queries - full answers = slipped + dropped, half slipped", limited, slipped, dropped, f.full, f.received)
	}
	if f.truncated == 0 || float64(f.truncated) > slipped {
		t.Errorf("%d truncated replies received, server slipped %v", f.truncated, slipped)
	}

	// TCP from the limited network: every answer whole.
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(floodSource)}}}
	var conn *dns.Conn
	for i := range 300 {
		if i%100 == 0 {
			var err error
			if conn, err = c.Dial(ts.tcp); err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
		}
		r, _, err := c.ExchangeWithConnContext(context.Background(), msg(t, "many.gslb.example.com.", dns.TypeA, ""), conn)
		if err != nil {
			t.Fatalf("tcp query %d: %v", i, err)
		}
		if r.Truncated || len(r.Answer) != 71 {
			t.Fatalf("tcp query %d: TC %v, %d answers; want the 71 A records", i, r.Truncated, len(r.Answer))
		}
	}
	if after := gather(t, ts.Server)["anyctl_dns_rrl_limited_total{}"]; after != limited {
		t.Errorf("TCP queries were limited: limited went from %v to %v", limited, after)
	}

	// An exempt network and a PoP's cache network: every answer whole,
	// over their budget too.
	for _, src := range []string{exemptSource, popSource} {
		before := gather(t, ts.Server)["anyctl_dns_rrl_exempted_total{}"]
		full, total := paced(t, ts.udp, src, q, 1000)
		if full != total {
			t.Errorf("from %s: %d of %d answers whole, want all", src, full, total)
		}
		after := gather(t, ts.Server)
		if after["anyctl_dns_rrl_exempted_total{}"] == before {
			t.Errorf("from %s: 1000 queries without the exemption being used", src)
		}
		if after["anyctl_dns_rrl_limited_total{}"] != limited {
			t.Errorf("from %s: limited went from %v to %v", src, limited, after["anyctl_dns_rrl_limited_total{}"])
		}
	}
}

// paced sends n copies of q from local, 50 at a time, waiting for their
// replies, and counts the whole answers.
func paced(t testing.TB, server, local string, q []byte, n int) (full, total int) {
	t.Helper()
	ra, _ := net.ResolveUDPAddr("udp", server)
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(local)}, ra)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 65535)
	for total < n {
		for range 50 {
			c.Write(q)
		}
		for range 50 {
			total++
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			k, err := c.Read(buf)
			if err != nil {
				continue
			}
			var m dns.Msg
			if m.Unpack(buf[:k]) == nil && !m.Truncated && len(m.Answer) == 71 {
				full++
			}
		}
	}
	return full, total
}

// TestRRLAmplification prints the amplification factor (bytes out / bytes
// in) of the worst query, a name of 71 A records, flooded from one source
// with rate limiting off and on (the defaults), and checks that limiting
// takes it below 2.
func TestRRLAmplification(t *testing.T) {
	q := manyQuery(t)
	off := dnsgslb.RRLConfig{}
	on := dnsgslb.DefaultRRL()
	on.Exempt = nil
	var factor [2]float64
	for i, cfg := range []*dnsgslb.RRLConfig{&off, &on} {
		ts := run(t, newServerWith(t, dnsgslb.Config{RRL: cfg}, amplifier()))
		f := flood(t, ts, floodSource, q, 20_000)
		factor[i] = f.amplification()
		t.Logf("RRL %-3s: 20000 queries of %d bytes sent in %v, %d read by the server: %d full answers, %d truncated, %d bytes in, %d bytes out: amplification %.1fx",
			map[int]string{0: "off", 1: "on"}[i], len(q), f.elapsed.Round(time.Millisecond), f.received, f.full, f.truncated, f.bytesIn, f.bytesOut, factor[i])
		fmt.Printf("amplification of many.gslb.example.com A (71 records), RRL %s: %.2fx (%d bytes out / %d bytes in)\n",
			map[int]string{0: "off", 1: "on (100/s per /24, slip 2)"}[i], factor[i], f.bytesOut, f.bytesIn)
	}
	if factor[0] < 20 {
		t.Errorf("without RRL the flood amplified %.1fx: the test name should amplify over 20x", factor[0])
	}
	if factor[1] >= 2 {
		t.Errorf("with RRL the flood still amplified %.1fx, want under 2x", factor[1])
	}
}

// TestRRLValidCookie: a UDP client that sends back the server cookie it
// learnt has proven its address, as a TCP client has, and is not limited
// (RFC 7873 section 5.4, as BIND and Knot do); with a client cookie alone
// it is.
func TestRRLValidCookie(t *testing.T) {
	cfg := dnsgslb.DefaultRRL()
	cfg.Exempt = nil
	ts := run(t, newServerWith(t, dnsgslb.Config{RRL: &cfg}, amplifier()))
	withCookie := func(c string) []byte {
		m := new(dns.Msg)
		m.SetQuestion("many.gslb.example.com.", dns.TypeA)
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: c}}
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	c := &dns.Client{Net: "udp", Timeout: 5 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(floodSource)}}}
	var first dns.Msg
	if err := first.Unpack(withCookie(clientCookie)); err != nil {
		t.Fatal(err)
	}
	r, _, err := c.Exchange(&first, ts.udp)
	if err != nil {
		t.Fatal(err)
	}
	learnt := cookieOf(r)
	if len(learnt) != 48 {
		t.Fatalf("no server cookie learnt: %q", learnt)
	}
	f := flood(t, ts, floodSource, withCookie(learnt), 2000)
	limited := gather(t, ts.Server)["anyctl_dns_rrl_limited_total{}"]
	if f.full != f.received || limited != 0 {
		t.Errorf("valid server cookie: %d of %d answers whole, %v limited; want all whole, none limited", f.full, f.received, limited)
	}
	flood(t, ts, floodSource, withCookie(clientCookie), 2000)
	if limited := gather(t, ts.Server)["anyctl_dns_rrl_limited_total{}"]; limited == 0 {
		t.Errorf("client cookie alone: 2000 queries, none limited")
	}
}

// TestRRLKinds floods one network with responses that differ only in what
// an attacker can vary at no cost: the names below a zone cut get one
// referral, the types of one name one NODATA, the names of a zone one
// NXDOMAIN. Each is one budget, as in BIND, and so limited.
func TestRRLKinds(t *testing.T) {
	for _, tc := range []struct {
		desc  string
		query func(i int) (string, uint16)
		rcode int
	}{
		{"referrals below one cut", func(i int) (string, uint16) {
			return fmt.Sprintf("r%05d.child.gslb.example.com.", i), dns.TypeA
		}, dns.RcodeSuccess},
		{"NODATA of one name, any type", func(i int) (string, uint16) {
			return "gslb.example.com.", uint16(1000 + i)
		}, dns.RcodeSuccess},
		{"NXDOMAIN of one zone", func(i int) (string, uint16) {
			return fmt.Sprintf("x%05d.gslb.example.com.", i), dns.TypeA
		}, dns.RcodeNameError},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			cfg := dnsgslb.DefaultRRL()
			cfg.Exempt = nil
			ts := run(t, newServerWith(t, dnsgslb.Config{RRL: &cfg}, gslbtest.RealZone()))
			name, qtype := tc.query(0)
			if r := ts.exchange(t, "udp", msg(t, name, qtype, "")); r.Rcode != tc.rcode || len(r.Answer) != 0 {
				t.Fatalf("%s %d: rcode %s with %d answers, want %s and none", name, qtype, rcodeName(r.Rcode), len(r.Answer), rcodeName(tc.rcode))
			}
			f := floodEach(t, ts, floodSource, func(i int) []byte {
				name, qtype := tc.query(i)
				b, err := msg(t, name, qtype, "").Pack()
				if err != nil {
					t.Fatal(err)
				}
				return b
			}, 2000)
			// The budget allows 100 at once and 100 a second.
			if most := 100 * (2 + f.elapsed.Seconds()); float64(f.full) > most {
				t.Errorf("%d of %d replies whole in %v: want at most %.0f", f.full, f.received, f.elapsed, most)
			}
		})
	}
}

// TestRRLSlipPerBudget floods two names alternately from one network: each
// budget's limited replies are truncated every other time, so that a real
// client behind a forged flood gets its TC whatever else the flood asks
// in between.
func TestRRLSlipPerBudget(t *testing.T) {
	cfg := dnsgslb.DefaultRRL()
	cfg.Exempt = nil
	ts := run(t, newServerWith(t, dnsgslb.Config{RRL: &cfg}, amplifier()))
	names := []string{"many.gslb.example.com.", "www.gslb.example.com."}
	var queries [][]byte
	for _, name := range names {
		b, err := msg(t, name, dns.TypeA, "").Pack()
		if err != nil {
			t.Fatal(err)
		}
		queries = append(queries, b)
	}
	truncated := map[string]int{}
	ra, _ := net.ResolveUDPAddr("udp", ts.udp)
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(floodSource)}, ra)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadBuffer(8 << 20) // fewer replies lost before they are read
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			c.SetReadDeadline(time.Now().Add(time.Second))
			k, err := c.Read(buf)
			if err != nil {
				return
			}
			var m dns.Msg
			if m.Unpack(buf[:k]) == nil && m.Truncated && len(m.Question) == 1 {
				truncated[m.Question[0].Name]++
			}
		}
	}()
	for i := range 2000 {
		if _, err := c.Write(queries[i%2]); err != nil {
			t.Fatal(err)
		}
		if i%200 == 199 {
			time.Sleep(2 * time.Millisecond) // pacing only, as in flood
		}
	}
	<-done
	// About 900 of each name's 1000 replies are limited, and about half
	// of those slip. On a busy machine the client's socket drops some
	// replies, as many of one name's as of the other's: the names are
	// compared with each other. Counted per worker, the slips went to
	// one name: 103 against 897.
	a, b := truncated[names[0]], truncated[names[1]]
	if min(a, b) < 100 || 3*min(a, b) < max(a, b) {
		t.Errorf("truncated replies to 1000 queries of each name: %v, want about as many for each, about half of its limited ones", truncated)
	}
}

// TestRRLChaosAfterReferral: a CHAOS query answered after a referral to a
// longer name is counted as itself, not as the referral before it.
func TestRRLChaosAfterReferral(t *testing.T) {
	cfg := dnsgslb.DefaultRRL()
	cfg.Exempt = nil
	ts := run(t, newServerWith(t, dnsgslb.Config{RRL: &cfg, Identity: "ns-test"}, gslbtest.RealZone()))
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(floodSource)}}}
	for i := range 3 {
		r, _, err := c.Exchange(msg(t, "a.b.c.d.e.f.g.h.i.j.child.gslb.example.com.", dns.TypeA, ""), ts.udp)
		if err != nil || len(r.Ns) == 0 {
			t.Fatalf("referral %d: %v %v", i, r, err)
		}
		q := new(dns.Msg)
		q.SetQuestion("id.server.", dns.TypeTXT)
		q.Question[0].Qclass = dns.ClassCHAOS
		r, _, err = c.Exchange(q, ts.udp)
		if err != nil || len(r.Answer) != 1 {
			t.Fatalf("id.server CH TXT %d after a referral: %v %v", i, r, err)
		}
	}
}
