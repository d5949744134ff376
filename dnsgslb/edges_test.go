package dnsgslb_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// rawTCP sends b over a new TCP connection, length-prefixed, and returns
// the reply's bytes.
func (ts *testServer) rawTCP(t testing.TB, b []byte) []byte {
	t.Helper()
	c, err := net.Dial("tcp", ts.tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(tcpFrame(b)); err != nil {
		t.Fatal(err)
	}
	return readTCP(t, bufio.NewReader(c))
}

// tcpFrame is b with its two-byte length prefix, as sent over TCP.
func tcpFrame(b []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
}

// readTCP reads one length-prefixed message.
func readTCP(t testing.TB, r io.Reader) []byte {
	t.Helper()
	var n [2]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		t.Fatalf("no reply: %v", err)
	}
	b := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatalf("short reply: %v", err)
	}
	return b
}

// send sends raw bytes over "udp" or "tcp" and unpacks the reply.
func (ts *testServer) send(t testing.TB, network string, b []byte) *dns.Msg {
	t.Helper()
	var reply []byte
	if network == "tcp" {
		reply = ts.rawTCP(t, b)
	} else {
		reply = ts.raw(t, b)
	}
	var m dns.Msg
	if err := m.Unpack(reply); err != nil {
		t.Fatalf("%s: reply does not unpack: %v\n% x", network, err, reply)
	}
	return &m
}

func pack(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wireHeader is a query header: ID 0x4242, opcode, and the section counts.
func wireHeader(opcode int, qd, an, ns, ar uint16) []byte {
	b := []byte{0x42, 0x42, byte(opcode << 3), 0}
	for _, n := range []uint16{qd, an, ns, ar} {
		b = binary.BigEndian.AppendUint16(b, n)
	}
	return b
}

// wwwName is www.gslb.example.com. in wire format.
var wwwName = []byte{3, 'w', 'w', 'w', 4, 'g', 's', 'l', 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0}

// wireQuestion is www.gslb.example.com. A IN.
func wireQuestion() []byte { return append(append([]byte(nil), wwwName...), 0, 1, 0, 1) }

// wireOPT is an OPT record (payload 1232, version 0) owned by owner, with
// no option.
func wireOPT(owner ...byte) []byte { return append(owner, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0) }

func join(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func rcodeName(r int) string {
	if s, ok := dns.RcodeToString[r]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", r)
}

// TestFormatErrors sends malformed queries as bytes over UDP and TCP: each
// gets the rcode RFC 1035 and RFC 6891 ask for, with the query's ID.
func TestFormatErrors(t *testing.T) {
	ts := startServer(t)
	tests := []struct {
		desc  string
		b     []byte
		rcode int
	}{
		{"well-formed, OPT", join(wireHeader(0, 1, 0, 0, 1), wireQuestion(), wireOPT(0)), dns.RcodeSuccess},
		{"two OPT records", join(wireHeader(0, 1, 0, 0, 2), wireQuestion(), wireOPT(0), wireOPT(0)), dns.RcodeFormatError},
		{"OPT with a non-root owner", join(wireHeader(0, 1, 0, 0, 1), wireQuestion(), wireOPT(wwwName...)), dns.RcodeFormatError},
		{"OPT in the answer section", join(wireHeader(0, 1, 1, 0, 0), wireQuestion(), wireOPT(0)), dns.RcodeFormatError},
		{"OPT in the authority section", join(wireHeader(0, 1, 0, 1, 0), wireQuestion(), wireOPT(0)), dns.RcodeFormatError},
		{"question without QTYPE and QCLASS", join(wireHeader(0, 1, 0, 0, 0), wwwName), dns.RcodeFormatError},
		{"question without QCLASS", join(wireHeader(0, 1, 0, 0, 0), wwwName, []byte{0, 1}), dns.RcodeFormatError},
		{"no question", wireHeader(0, 0, 0, 0, 0), dns.RcodeFormatError},
		{"unknown opcode, header only", wireHeader(15, 0, 0, 0, 0), dns.RcodeNotImplemented},
		{"unknown opcode, RD and CD set, header only", func() []byte { b := wireHeader(3, 0, 0, 0, 0); b[2] |= 1; b[3] |= 0x10; return b }(), dns.RcodeNotImplemented},
		{"UPDATE", join(wireHeader(dns.OpcodeUpdate, 1, 0, 0, 0), wireQuestion()), dns.RcodeNotImplemented},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			for _, network := range []string{"udp", "tcp"} {
				r := ts.send(t, network, tc.b)
				if r.Id != 0x4242 || r.Rcode != tc.rcode || !r.Response {
					t.Errorf("%s: id %#x rcode %s QR %v, want 0x4242 %s QR", network, r.Id, rcodeName(r.Rcode), r.Response, rcodeName(tc.rcode))
				}
				// RD is defined for QUERY only: not echoed for
				// another opcode; CD is never echoed.
				if r.Opcode != dns.OpcodeQuery && r.RecursionDesired || r.CheckingDisabled {
					t.Errorf("%s: opcode %d reply with RD %v CD %v, want neither", network, r.Opcode, r.RecursionDesired, r.CheckingDisabled)
				}
			}
		})
	}
}

// TestZoneTransfer: AXFR and IXFR are not served; they get NOTIMP, as from
// gdnsd, over UDP and TCP, rather than an empty answer a transfer client
// would take for a broken zone.
func TestZoneTransfer(t *testing.T) {
	ts := startServer(t)
	for _, qtype := range []uint16{dns.TypeAXFR, dns.TypeIXFR} {
		for _, network := range []string{"udp", "tcp"} {
			r := ts.send(t, network, pack(t, msg(t, "gslb.example.com.", qtype, "")))
			if r.Rcode != dns.RcodeNotImplemented || len(r.Answer)+len(r.Ns) != 0 {
				t.Errorf("%s %s: rcode %s with %d answer and %d authority records, want NOTIMP and none",
					network, dns.TypeToString[qtype], rcodeName(r.Rcode), len(r.Answer), len(r.Ns))
			}
		}
	}
}

// TestBadVersNoOptions: a BADVERS reply carries an OPT record of version 0
// and no option, even when the query had ECS.
func TestBadVersNoOptions(t *testing.T) {
	ts := startServer(t)
	m := msg(t, "nearest.gslb.example.com.", dns.TypeA, "198.18.1.0/24")
	m.IsEdns0().SetVersion(1)
	for _, network := range []string{"udp", "tcp"} {
		r := ts.send(t, network, pack(t, m))
		opt := r.IsEdns0()
		if r.Rcode != dns.RcodeBadVers || opt == nil || opt.Version() != 0 || len(opt.Option) != 0 {
			t.Errorf("%s: rcode %s OPT %v, want BADVERS with a version 0 OPT and no option", network, rcodeName(r.Rcode), opt)
		}
	}
}

// TestPipelinedTCP sends 200 queries on one TCP connection before reading
// any reply: every query is answered, in order (RFC 7766).
func TestPipelinedTCP(t *testing.T) {
	ts := startServer(t)
	c, err := net.Dial("tcp", ts.tcp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	const n = 200
	var out []byte
	for i := range n {
		m := msg(t, "www.gslb.example.com.", dns.TypeA, "")
		m.Id = uint16(i)
		out = append(out, tcpFrame(pack(t, m))...)
	}
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	for i := range n {
		var m dns.Msg
		if err := m.Unpack(readTCP(t, r)); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if m.Id != uint16(i) || m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
			t.Fatalf("reply %d: id %d rcode %s, %d answers; want id %d, NOERROR, 1 answer", i, m.Id, rcodeName(m.Rcode), len(m.Answer), i)
		}
	}
}

// TestMalformedCookie: a COOKIE option whose client cookie is not 8 bytes,
// or whose server cookie is not 8 to 32 bytes, is a FORMERR (RFC 7873
// section 5.2.2).
func TestMalformedCookie(t *testing.T) {
	ts := startServer(t)
	for _, tc := range []struct {
		desc    string
		size    int
		formErr bool
	}{
		{"7 bytes", 7, true},
		{"8 bytes", 8, false},
		{"9 bytes", 9, true},
		{"15 bytes", 15, true},
		{"16 bytes", 16, false},
		{"40 bytes", 40, false},
		{"41 bytes", 41, true},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			m := msg(t, "www.gslb.example.com.", dns.TypeA, "")
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_LOCAL{Code: dns.EDNS0COOKIE, Data: make([]byte, tc.size)}}
			for _, network := range []string{"udp", "tcp"} {
				// A well-formed cookie of zeros is answered, or, over
				// UDP, told BADCOOKIE when it has a server cookie.
				if r := ts.send(t, network, pack(t, m)); (r.Rcode == dns.RcodeFormatError) != tc.formErr {
					t.Errorf("%s: rcode %s, want FORMERR %v", network, rcodeName(r.Rcode), tc.formErr)
				}
			}
		})
	}
}

// TestTCPStopClosesConnections: stopping the server closes its idle TCP
// connections at once rather than after their idle timeout.
func TestTCPStopClosesConnections(t *testing.T) {
	s := newServer(t, "", gslbtest.Snapshot())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	_, tcpAddr := s.Addr()
	c, err := net.Dial("tcp", tcpAddr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ts := &testServer{Server: s, tcp: tcpAddr.String()}
	var m dns.Msg
	if err := m.Unpack(ts.rawTCP(t, pack(t, msg(t, "www.gslb.example.com.", dns.TypeA, "")))); err != nil || m.Rcode != dns.RcodeSuccess {
		t.Fatalf("a query before stopping: %v %v", err, m.Rcode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Run returned, so the idle connection has been closed: the client
	// reads EOF well before the 10 s idle timeout (bounded at 5 s here).
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read on an idle connection after stop: %v, want EOF", err)
	}
}

// TestTSIGLongNames: the BADKEY reply to a TSIG of 255-byte key and
// algorithm names outgrows 512 bytes; over UDP without EDNS it is sent
// without its TSIG and with TC, over TCP whole; with the question, or
// without one as the query had none.
func TestTSIGLongNames(t *testing.T) {
	ts := startServer(t)
	long := strings.Repeat(strings.Repeat("k", 63)+".", 3) + strings.Repeat("k", 61) + "."
	for _, question := range []bool{true, false} {
		m := new(dns.Msg)
		if question {
			m.SetQuestion("www.gslb.example.com.", dns.TypeA)
		}
		m.Extra = append(m.Extra, &dns.TSIG{
			Hdr:       dns.RR_Header{Name: long, Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
			Algorithm: long, TimeSigned: uint64(time.Now().Unix()), Fudge: 300, OrigId: m.Id,
		})
		b := pack(t, m)
		for _, tc := range []struct {
			network string
			tc      bool
			extra   int
		}{{"udp", true, 0}, {"tcp", false, 1}} {
			reply := ts.send(t, tc.network, b)
			if reply.Rcode != dns.RcodeNotAuth || reply.Truncated != tc.tc || len(reply.Extra) != tc.extra || len(reply.Question) != len(m.Question) {
				t.Errorf("%s, %d questions: rcode %s TC %v with %d questions and %d additional records, want NOTAUTH, TC %v, %d and %d",
					tc.network, len(m.Question), rcodeName(reply.Rcode), reply.Truncated, len(reply.Question), len(reply.Extra), tc.tc, len(m.Question), tc.extra)
			}
			if tc.extra == 1 && (len(reply.Extra) != 1 || reply.Extra[0].(*dns.TSIG).Error != dns.RcodeBadKey) {
				t.Errorf("%s: additional %v, want the TSIG of BADKEY", tc.network, reply.Extra)
			}
		}
	}
}
