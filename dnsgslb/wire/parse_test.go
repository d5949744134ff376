package wire_test

import (
	"bytes"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/wire"
)

func pack(t *testing.T, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func query(name string, edns bool, opts ...dns.EDNS0) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeAAAA)
	if edns {
		m.SetEdns0(4096, true)
		m.IsEdns0().Option = opts
	}
	return m
}

func ecs(family uint16, bits uint8, addr string) *dns.EDNS0_SUBNET {
	return &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: family, SourceNetmask: bits, Address: netip.MustParseAddr(addr).AsSlice()}
}

func cookie(hex string) *dns.EDNS0_COOKIE {
	return &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: hex}
}

func raw(data ...byte) *dns.EDNS0_LOCAL { return &dns.EDNS0_LOCAL{Code: dns.EDNS0SUBNET, Data: data} }

func TestParse(t *testing.T) {
	tests := []struct {
		desc    string
		msg     *dns.Msg
		bytes   []byte
		result  wire.Result
		formErr bool
		ecs     string
	}{
		{desc: "plain", msg: query("Example.COM.", false), result: wire.OK},
		{desc: "EDNS", msg: query("example.com.", true), result: wire.OK},
		{desc: "ECS v4", msg: query("example.com.", true, ecs(1, 24, "198.18.1.0")), result: wire.OK, ecs: "198.18.1.0/24"},
		{desc: "ECS v4 /20", msg: query("example.com.", true, ecs(1, 20, "198.18.16.0")), result: wire.OK, ecs: "198.18.16.0/20"},
		{desc: "ECS v6", msg: query("example.com.", true, ecs(2, 56, "2001:db8:1:100::")), result: wire.OK, ecs: "2001:db8:1:100::/56"},
		{desc: "ECS /0", msg: query("example.com.", true, raw(0, 1, 0, 0)), result: wire.OK, ecs: "0.0.0.0/0"},
		{desc: "ECS family 0 /0", msg: query("example.com.", true, raw(0, 0, 0, 0)), result: wire.OK},
		{desc: "ECS bad family", msg: query("example.com.", true, raw(0, 9, 0, 0)), result: wire.OK, formErr: true},
		{desc: "ECS /33", msg: query("example.com.", true, raw(0, 1, 33, 0, 1, 2, 3, 4, 5)), result: wire.OK, formErr: true},
		{desc: "ECS address too long", msg: query("example.com.", true, raw(0, 1, 8, 0, 10, 0)), result: wire.OK, formErr: true},
		{desc: "ECS address too short", msg: query("example.com.", true, raw(0, 1, 24, 0, 10, 0)), result: wire.OK, formErr: true},
		{desc: "ECS host bits", msg: query("example.com.", true, raw(0, 1, 20, 0, 10, 0, 0x18)), result: wire.OK, formErr: true},
		{desc: "two ECS", msg: query("example.com.", true, ecs(1, 24, "10.0.0.0"), ecs(1, 24, "10.0.1.0")), result: wire.OK, formErr: true},
		{desc: "ECS scope not zero", msg: query("example.com.", true, raw(0, 1, 24, 16, 198, 18, 1)), result: wire.OK, formErr: true},
		{desc: "client cookie", msg: query("example.com.", true, cookie("0102030405060708")), result: wire.OK},
		{desc: "client and server cookie", msg: query("example.com.", true, cookie("01020304050607080102030405060708090a0b0c0d0e0f10")), result: wire.OK},
		{desc: "7-byte cookie", msg: query("example.com.", true, cookie("01020304050607")), result: wire.OK, formErr: true},
		{desc: "9-byte cookie", msg: query("example.com.", true, cookie("010203040506070809")), result: wire.OK, formErr: true},
		{desc: "15-byte cookie", msg: query("example.com.", true, cookie("0102030405060708090a0b0c0d0e0f")), result: wire.OK, formErr: true},
		{desc: "41-byte cookie", msg: query("example.com.", true, cookie(strings.Repeat("ab", 41))), result: wire.OK, formErr: true},
		{desc: "second cookie ignored", msg: query("example.com.", true, cookie("0102030405060708"), cookie("01020304050607")), result: wire.OK},
		{desc: "NSID", msg: query("example.com.", true, &dns.EDNS0_NSID{Code: dns.EDNS0NSID}), result: wire.OK},
		{desc: "other option kept quiet", msg: query("example.com.", true, &dns.EDNS0_LOCAL{Code: 65001, Data: []byte{1, 2, 3}}), result: wire.OK},
		{desc: "short header", bytes: []byte{1, 2, 3}, result: wire.Drop},
		{desc: "a response", bytes: []byte{0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0}, result: wire.Drop},
		{desc: "no question", bytes: []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, result: wire.Fallback},
		{desc: "compressed name", bytes: []byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1}, result: wire.Fallback},
		{desc: "trailing bytes", bytes: append(pack(t, query("example.com.", false)), 0), result: wire.Fallback},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			b := tc.bytes
			if tc.msg != nil {
				b = pack(t, tc.msg)
			}
			var q wire.Query
			if got := wire.Parse(b, &q); got != tc.result {
				t.Fatalf("Parse = %d, want %d", got, tc.result)
			}
			if tc.result != wire.OK {
				return
			}
			if q.FormErr != tc.formErr {
				t.Errorf("FormErr %v, want %v", q.FormErr, tc.formErr)
			}
			if tc.formErr {
				return
			}
			var m dns.Msg
			m.Unpack(b)
			name, _, err := dns.UnpackDomainName(q.QName(), 0)
			if err != nil || name != m.Question[0].Name || q.Qtype != dns.TypeAAAA || q.ID != m.Id {
				t.Errorf("question %q %d id %d, want %q AAAA %d (%v)", name, q.Qtype, q.ID, m.Question[0].Name, m.Id, err)
			}
			if got := ""; q.ECS {
				got = q.ECSPrefix().String()
				if got != tc.ecs {
					t.Errorf("ECS %s, want %s", got, tc.ecs)
				}
			} else if tc.ecs != "" {
				t.Errorf("no ECS, want %s", tc.ecs)
			}
			// The fallback parser agrees with the fast one.
			var f wire.Query
			if got := wire.ParseAny(b, &f); got != wire.OK || !reflect.DeepEqual(f, q) {
				t.Errorf("ParseAny = %d\n%+v\nParse\n%+v", got, f, q)
			}
		})
	}
}

// TestLowerNameAfterReparse parses a long mixed-case name, then a shorter
// one into the same Query, with the fast parser and with the general one:
// the name keeps its case, the lower-case form is exact and nothing of the
// longer name shows.
func TestLowerNameAfterReparse(t *testing.T) {
	var q wire.Query
	for _, parse := range []func([]byte, *wire.Query) wire.Result{wire.Parse, wire.ParseAny} {
		for _, name := range []string{"A-Much.LONGER.Name.Example.COM.", "wWw.ExAmPlE.cOm."} {
			if res := parse(pack(t, query(name, true)), &q); res != wire.OK {
				t.Fatalf("%s: result %v", name, res)
			}
			wantLower, _ := packName(strings.ToLower(name))
			want, _ := packName(name)
			if got := q.QName(); string(got) != string(want) {
				t.Errorf("%s: QName %q, want %q", name, got, want)
			}
			if got := q.LowerName(); string(got) != string(wantLower) {
				t.Errorf("%s: LowerName %q, want %q", name, got, wantLower)
			}
		}
	}
}

func packName(name string) ([]byte, error) {
	b := make([]byte, 255)
	n, err := dns.PackDomainName(name, b, 0, nil, false)
	return b[:n], err
}

// FuzzParseAgrees: where miekg/dns unpacks a query with one question,
// Parse (then ParseAny) reads the same question and OPT record.
func FuzzParseAgrees(f *testing.F) {
	for _, name := range []string{"www.example.com.", "a.b.", "."} {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		m.SetEdns0(1232, true)
		b, _ := m.Pack()
		f.Add(b)
		m.Compress = true
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET}})
		b, _ = m.Pack()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var q wire.Query
		res := wire.Parse(b, &q)
		if res == wire.Fallback {
			res = wire.ParseAny(b, &q)
		}
		var m dns.Msg
		if err := m.Unpack(b); err != nil || m.Response || len(m.Question) != 1 {
			return
		}
		if res != wire.OK {
			t.Fatalf("result %d for a query miekg reads\n% x", res, b)
		}
		if q.FormErr {
			return
		}
		var want [255]byte
		n, err := dns.PackDomainName(m.Question[0].Name, want[:], 0, nil, false)
		if err != nil {
			return
		}
		if !q.HasQuestion || !bytes.Equal(q.QName(), want[:n]) || q.Qtype != m.Question[0].Qtype || q.Qclass != m.Question[0].Qclass {
			t.Fatalf("question %x/%d/%d, miekg %x/%d/%d\n% x", q.QName(), q.Qtype, q.Qclass, want[:n], m.Question[0].Qtype, m.Question[0].Qclass, b)
		}
		if opt := m.IsEdns0(); (opt != nil) != q.EDNS || (opt != nil && (opt.UDPSize() != q.UDPSize || opt.Do() != q.DO)) {
			t.Fatalf("EDNS %v size %d do %v, miekg %v\n% x", q.EDNS, q.UDPSize, q.DO, opt, b)
		}
	})
}
