package dnsgslb_test

import (
	"encoding/binary"
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

const soa = "gslb.example.com. 60 IN SOA ns1.gslb.example.com. hostmaster.gslb.example.com. 2026010201 3600 600 86400 60"

func TestAuthoritative(t *testing.T) {
	ts := startServer(t)
	tests := []struct {
		desc      string
		name      string
		qtype     uint16
		rcode     int
		answer    []string
		authority []string
		extra     []string
	}{
		{"static A", "www.gslb.example.com.", dns.TypeA, dns.RcodeSuccess,
			[]string{"www.gslb.example.com. 300 IN A 192.0.2.80"}, nil, nil},
		{"static AAAA", "www.gslb.example.com.", dns.TypeAAAA, dns.RcodeSuccess,
			[]string{"www.gslb.example.com. 300 IN AAAA 2001:db8::80"}, nil, nil},
		{"TXT", "txt.gslb.example.com.", dns.TypeTXT, dns.RcodeSuccess,
			[]string{`txt.gslb.example.com. 300 IN TXT "hello world"`}, nil, nil},
		{"CNAME for any type", "alias.gslb.example.com.", dns.TypeA, dns.RcodeSuccess,
			[]string{"alias.gslb.example.com. 300 IN CNAME www.gslb.example.com."}, nil, nil},
		{"SOA", "gslb.example.com.", dns.TypeSOA, dns.RcodeSuccess,
			[]string{"gslb.example.com. 300 IN SOA ns1.gslb.example.com. hostmaster.gslb.example.com. 2026010201 3600 600 86400 60"}, nil, nil},
		{"NS with glue", "gslb.example.com.", dns.TypeNS, dns.RcodeSuccess,
			[]string{"gslb.example.com. 300 IN NS ns1.gslb.example.com.", "gslb.example.com. 300 IN NS ns2.example.net."}, nil,
			[]string{"ns1.gslb.example.com. 300 IN A 192.0.2.53", "ns1.gslb.example.com. 300 IN AAAA 2001:db8::53"}},
		{"glue name answers A", "ns1.gslb.example.com.", dns.TypeA, dns.RcodeSuccess,
			[]string{"ns1.gslb.example.com. 300 IN A 192.0.2.53"}, nil, nil},
		{"NXDOMAIN", "nope.gslb.example.com.", dns.TypeA, dns.RcodeNameError, nil, []string{soa}, nil},
		{"NXDOMAIN deep", "x.y.nope.gslb.example.com.", dns.TypeAAAA, dns.RcodeNameError, nil, []string{soa}, nil},
		{"NODATA", "www.gslb.example.com.", dns.TypeMX, dns.RcodeSuccess, nil, []string{soa}, nil},
		{"NODATA for GSLB name", "failover.gslb.example.com.", dns.TypeAAAA, dns.RcodeSuccess, nil, []string{soa}, nil},
		{"NODATA empty non-terminal", "deep.gslb.example.com.", dns.TypeA, dns.RcodeSuccess, nil, []string{soa}, nil},
		{"ANY is minimal", "www.gslb.example.com.", dns.TypeANY, dns.RcodeSuccess,
			[]string{`www.gslb.example.com. 300 IN HINFO "RFC8482" ""`}, nil, nil},
		{"outside zones", "www.example.org.", dns.TypeA, dns.RcodeRefused, nil, nil, nil},
		{"parent of zone", "example.com.", dns.TypeA, dns.RcodeRefused, nil, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			for _, network := range []string{"udp", "tcp"} {
				r := ts.exchange(t, network, msg(t, tc.name, tc.qtype, ""))
				if r.Rcode != tc.rcode {
					t.Errorf("%s: rcode %s, want %s", network, dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
				}
				if wantAA := tc.rcode != dns.RcodeRefused; r.Authoritative != wantAA {
					t.Errorf("%s: AA %v, want %v", network, r.Authoritative, wantAA)
				}
				if r.RecursionAvailable {
					t.Errorf("%s: RA set", network)
				}
				if got := rrs(r.Answer); !equal(got, tc.answer) {
					t.Errorf("%s: answer\n got %q\nwant %q", network, got, tc.answer)
				}
				if got := rrs(r.Ns); !equal(got, tc.authority) {
					t.Errorf("%s: authority\n got %q\nwant %q", network, got, tc.authority)
				}
				if got := rrs(r.Extra); !equal(got, tc.extra) {
					t.Errorf("%s: additional\n got %q\nwant %q", network, got, tc.extra)
				}
			}
		})
	}
}

func TestCasePreserved(t *testing.T) {
	ts := startServer(t)
	for _, name := range []string{"NeArEsT.GsLb.ExAmPlE.CoM.", "NOPE.gslb.EXAMPLE.com.", "WWW.GSLB.EXAMPLE.COM."} {
		r := ts.exchange(t, "udp", msg(t, name, dns.TypeA, gslbtest.London))
		if got := r.Question[0].Name; got != name {
			t.Errorf("question %q echoed as %q", name, got)
		}
		if len(r.Answer) > 0 && r.Answer[0].Header().Name != name {
			t.Errorf("answer owner %q, want %q", r.Answer[0].Header().Name, name)
		}
	}
}

func TestTruncation(t *testing.T) {
	ts := startServer(t)
	m := msg(t, "big.gslb.example.com.", dns.TypeTXT, "")
	m.SetEdns0(1232, false)
	udp := ts.exchange(t, "udp", m)
	if !udp.Truncated || len(udp.Answer) != 0 {
		t.Fatalf("UDP: TC %v with %d answers, want TC and none", udp.Truncated, len(udp.Answer))
	}
	if udp.IsEdns0() == nil || udp.IsEdns0().UDPSize() != 1232 {
		t.Errorf("UDP: OPT %v, want payload size 1232", udp.IsEdns0())
	}
	tcp := ts.exchange(t, "tcp", m)
	if tcp.Truncated || len(tcp.Answer) != 8 {
		t.Fatalf("TCP: TC %v with %d answers, want all 8", tcp.Truncated, len(tcp.Answer))
	}
	// Without EDNS the limit is 512 bytes: two answers of a failover
	// record fit, the big TXT does not.
	plain := ts.exchange(t, "udp", msg(t, "big.gslb.example.com.", dns.TypeTXT, ""))
	if !plain.Truncated {
		t.Error("no EDNS: big answer not truncated")
	}
}

func TestECS(t *testing.T) {
	ts := startServer(t)
	// Source prefix 0: the client opts out; answer by the resolver's
	// address (127.0.0.1, the default location) with scope 0.
	r := ts.exchange(t, "udp", msg(t, "nearest.gslb.example.com.", dns.TypeA, "0.0.0.0/0"))
	if got, want := rrs(r.Answer), []string{a("nearest", gslbtest.USEast4)}; !equal(got, want) {
		t.Errorf("source /0: answer %q, want %q", got, want)
	}
	if s := scope(r); s != 0 {
		t.Errorf("source /0: scope %d, want 0", s)
	}
	// Static data does not vary by client: scope 0.
	r = ts.exchange(t, "udp", msg(t, "www.gslb.example.com.", dns.TypeA, gslbtest.Tokyo))
	if s := scope(r); s != 0 {
		t.Errorf("static: scope %d, want 0", s)
	}
	// Without ECS there is no ECS in the reply.
	m := msg(t, "nearest.gslb.example.com.", dns.TypeA, "")
	m.SetEdns0(1232, true)
	r = ts.exchange(t, "udp", m)
	if s := scope(r); s != -1 {
		t.Errorf("no ECS asked: reply has ECS scope %d", s)
	}
	if !r.IsEdns0().Do() {
		t.Error("DO bit not copied")
	}
}

// ecsQuery packs a query whose ECS option body is given as raw bytes.
func ecsQuery(t *testing.T, body []byte) []byte {
	t.Helper()
	m := msg(t, "nearest.gslb.example.com.", dns.TypeA, "")
	m.Id = 4242
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_LOCAL{Code: dns.EDNS0SUBNET, Data: body})
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMalformedEDNS(t *testing.T) {
	ts := startServer(t)
	tests := []struct {
		desc  string
		body  []byte
		rcode int
	}{
		{"good ECS", []byte{0, 1, 24, 0, 198, 18, 1}, dns.RcodeSuccess},
		{"bad family", []byte{0, 3, 24, 0, 198, 18, 1}, dns.RcodeFormatError},
		{"IPv4 source prefix 33", []byte{0, 1, 33, 0, 198, 18, 1, 0, 0}, dns.RcodeFormatError},
		{"IPv6 source prefix 129", append([]byte{0, 2, 129, 0}, make([]byte, 17)...), dns.RcodeFormatError},
		{"address bits past the prefix", []byte{0, 1, 24, 0, 198, 18, 1, 7}, dns.RcodeFormatError},
		{"last byte bits past a /23", []byte{0, 1, 23, 0, 198, 18, 1}, dns.RcodeFormatError},
		{"truncated option", []byte{0, 1}, dns.RcodeFormatError},
		{"scope prefix not zero", []byte{0, 1, 24, 16, 198, 18, 1}, dns.RcodeFormatError},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			b := ts.raw(t, ecsQuery(t, tc.body))
			var r dns.Msg
			if err := r.Unpack(b); err != nil {
				t.Fatalf("reply does not unpack: %v", err)
			}
			if r.Id != 4242 || r.Rcode != tc.rcode {
				t.Errorf("reply id %d rcode %s, want 4242 %s", r.Id, dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
			}
		})
	}
	t.Run("EDNS version 1", func(t *testing.T) {
		m := msg(t, "nearest.gslb.example.com.", dns.TypeA, "")
		m.SetEdns0(1232, false)
		m.IsEdns0().SetVersion(1)
		r := ts.exchange(t, "udp", m)
		if r.Rcode != dns.RcodeBadVers {
			t.Errorf("rcode %s, want BADVERS", dns.RcodeToString[r.Rcode])
		}
	})
	t.Run("not a query opcode", func(t *testing.T) {
		m := msg(t, "nearest.gslb.example.com.", dns.TypeA, "")
		m.Opcode = dns.OpcodeUpdate
		r := ts.exchange(t, "udp", m)
		if r.Rcode != dns.RcodeNotImplemented {
			t.Errorf("rcode %s, want NOTIMP", dns.RcodeToString[r.Rcode])
		}
	})
	t.Run("two questions", func(t *testing.T) {
		m := msg(t, "nearest.gslb.example.com.", dns.TypeA, "")
		m.Question = append(m.Question, m.Question[0])
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		var r dns.Msg
		if err := r.Unpack(ts.raw(t, b)); err != nil {
			t.Fatal(err)
		}
		if r.Rcode != dns.RcodeFormatError {
			t.Errorf("rcode %s, want FORMERR", dns.RcodeToString[r.Rcode])
		}
	})
	t.Run("compressed question name is a FORMERR", func(t *testing.T) {
		// A pointer must point to a prior name (RFC 1035 section
		// 4.1.4); this one points to a name later in the packet.
		b := []byte{0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}
		b = append(b, 0xC0, 18) // pointer to the name below
		b = binary.BigEndian.AppendUint16(b, dns.TypeA)
		b = binary.BigEndian.AppendUint16(b, dns.ClassINET)
		b = append(b, 3, 'w', 'w', 'w', 4, 'g', 's', 'l', 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0)
		var r dns.Msg
		if err := r.Unpack(ts.raw(t, b)); err != nil {
			t.Fatal(err)
		}
		if r.Id != 9 || r.Rcode != dns.RcodeFormatError {
			t.Errorf("reply id %d rcode %s, want 9 FORMERR", r.Id, dns.RcodeToString[r.Rcode])
		}
	})
}
