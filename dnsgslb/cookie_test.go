package dnsgslb_test

import (
	"encoding/hex"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/cookie"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

const clientCookie = "24a4c4abcf10c957"

// withCookie is a query for www carrying the COOKIE option hex.
func withCookie(t testing.TB, hexCookie string) *dns.Msg {
	t.Helper()
	m := msg(t, "www.gslb.example.com.", dns.TypeA, "")
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: hexCookie}}
	return m
}

// cookieOf returns the COOKIE option of a reply in hex, "" without one.
func cookieOf(m *dns.Msg) string {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if c, ok := o.(*dns.EDNS0_COOKIE); ok {
				return c.Cookie
			}
		}
	}
	return ""
}

func secret(b byte) cookie.Secret {
	var s cookie.Secret
	for i := range s {
		s[i] = b
	}
	return s
}

// off starts a server with cookies off.
func off(t *testing.T) *testServer {
	return run(t, newServerWith(t, dnsgslb.Config{NoCookies: true}, gslbtest.Snapshot()))
}

// TestCookies follows a client through RFC 7873: it learns a server
// cookie, is answered when it sends it back, to this server or another
// sharing the secret (after a rollover too), and is told BADCOOKIE over UDP
// for a stale or forged one, while TCP answers.
func TestCookies(t *testing.T) {
	old, cur := secret(1), secret(2)
	a := run(t, newServerWith(t, dnsgslb.Config{Cookies: cookie.NewJar(old)}, gslbtest.Snapshot()))
	// b has rolled over: it makes cookies with cur and still takes old's.
	b := run(t, newServerWith(t, dnsgslb.Config{Cookies: cookie.NewJar(cur, old)}, gslbtest.Snapshot()))

	r := a.exchange(t, "udp", withCookie(t, clientCookie))
	learnt := cookieOf(r)
	if len(learnt) != 48 || learnt[:16] != clientCookie || learnt[16:24] != "01000000" || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("client cookie only: rcode %s cookie %q, want NOERROR, the answer, and %s + a version 1 server cookie", rcodeName(r.Rcode), learnt, clientCookie)
	}
	for _, tc := range []struct {
		desc string
		ts   *testServer
	}{{"same server", a}, {"another server, rolled over", b}} {
		r := tc.ts.exchange(t, "udp", withCookie(t, learnt))
		if got := cookieOf(r); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || len(got) != 48 || got[:16] != clientCookie {
			t.Errorf("%s: rcode %s cookie %q, want NOERROR, the answer and a fresh cookie", tc.desc, rcodeName(r.Rcode), got)
		}
	}

	var client [8]byte
	hex.Decode(client[:], []byte(clientCookie))
	loopback := netip.MustParseAddr("127.0.0.1")
	stale := cookie.NewJar(old).Make(&client, loopback, uint32(time.Now().Add(-2*time.Hour).Unix()))
	forged := []byte(learnt[16:])
	// One hex digit of the hash changed, to another hex digit (a flipped
	// bit could make it 'g', which no client can send).
	if forged[len(forged)-1] == '0' {
		forged[len(forged)-1] = '1'
	} else {
		forged[len(forged)-1] = '0'
	}
	unknown := cookie.NewJar(secret(9)).Make(&client, loopback, uint32(time.Now().Unix()))
	for _, tc := range []struct{ desc, cookie string }{
		{"stale", clientCookie + hex.EncodeToString(stale[:])},
		{"forged", clientCookie + string(forged)},
		{"unknown secret", clientCookie + hex.EncodeToString(unknown[:])},
		{"8-byte server cookie", clientCookie + "0102030405060708"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			r := a.exchange(t, "udp", withCookie(t, tc.cookie))
			got := cookieOf(r)
			if r.Rcode != dns.RcodeBadCookie || len(r.Answer) != 0 || len(got) != 48 || got[:16] != clientCookie {
				t.Errorf("UDP: rcode %s, %d answers, cookie %q; want BADCOOKIE, no answer, a fresh cookie", rcodeName(r.Rcode), len(r.Answer), got)
			}
			// The fresh cookie is good.
			if r := a.exchange(t, "udp", withCookie(t, got)); r.Rcode != dns.RcodeSuccess {
				t.Errorf("retry with the fresh cookie: rcode %s", rcodeName(r.Rcode))
			}
			r = a.exchange(t, "tcp", withCookie(t, tc.cookie))
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || len(cookieOf(r)) != 48 {
				t.Errorf("TCP: rcode %s, %d answers, cookie %q; want NOERROR, the answer, a fresh cookie", rcodeName(r.Rcode), len(r.Answer), cookieOf(r))
			}
		})
	}

	// A query without a question asks for a cookie alone (RFC 7873
	// section 5.4): NOERROR with the cookie, BADCOOKIE for a forged one
	// over UDP. Of an unknown opcode it is NOTIMP, with its cookie
	// answered, as gdnsd does.
	cookieOnly := func(opcode int, cookie string) []byte {
		b, _ := hex.DecodeString(cookie)
		return join(wireHeader(opcode, 0, 0, 0, 1), []byte{0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, byte(4 + len(b)), 0, 10, 0, byte(len(b))}, b)
	}
	for _, tc := range []struct {
		desc    string
		network string
		b       []byte
		rcode   int
	}{
		{"client cookie", "udp", cookieOnly(0, clientCookie), dns.RcodeSuccess},
		{"client cookie", "tcp", cookieOnly(0, clientCookie), dns.RcodeSuccess},
		{"learnt cookie", "udp", cookieOnly(0, learnt), dns.RcodeSuccess},
		{"forged cookie", "udp", cookieOnly(0, clientCookie+string(forged)), dns.RcodeBadCookie},
		{"opcode 15", "udp", cookieOnly(15, clientCookie), dns.RcodeNotImplemented},
	} {
		r := a.send(t, tc.network, tc.b)
		if got := cookieOf(r); r.Rcode != tc.rcode || len(got) != 48 || got[:16] != clientCookie || len(r.Question) != 0 {
			t.Errorf("no question, %s, %s: rcode %s cookie %q, %d questions; want %s, a fresh cookie, none", tc.desc, tc.network, rcodeName(r.Rcode), got, len(r.Question), rcodeName(tc.rcode))
		}
	}
	if r := off(t).send(t, "udp", cookieOnly(0, clientCookie)); r.Rcode != dns.RcodeFormatError {
		t.Errorf("no question, cookies off: rcode %s, want FORMERR", rcodeName(r.Rcode))
	}

	// With cookies off, a cookie is ignored and none is sent.
	if r := off(t).exchange(t, "udp", withCookie(t, clientCookie+"0102030405060708")); r.Rcode != dns.RcodeSuccess || cookieOf(r) != "" {
		t.Errorf("cookies off: rcode %s cookie %q, want NOERROR and none", rcodeName(r.Rcode), cookieOf(r))
	}
}

// keepaliveOf returns the edns-tcp-keepalive timeout of a reply, -1
// without the option.
func keepaliveOf(m *dns.Msg) int {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if k, ok := o.(*dns.EDNS0_TCP_KEEPALIVE); ok {
				return int(k.Timeout)
			}
		}
	}
	return -1
}

// TestTCPKeepalive: a TCP query carrying an empty edns-tcp-keepalive gets
// the idle timeout (RFC 7828); UDP gets none; a query carrying a timeout
// is a FORMERR over TCP.
func TestTCPKeepalive(t *testing.T) {
	ts := startServer(t)
	m := msg(t, "www.gslb.example.com.", dns.TypeA, "")
	m.SetEdns0(1232, false)
	m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_LOCAL{Code: dns.EDNS0TCPKEEPALIVE}}
	if r := ts.send(t, "tcp", pack(t, m)); keepaliveOf(r) != 100 || len(r.Answer) != 1 {
		t.Errorf("TCP: keepalive %d, %d answers; want 100 (10 s) and the answer", keepaliveOf(r), len(r.Answer))
	}
	if r := ts.send(t, "udp", pack(t, m)); keepaliveOf(r) != -1 || r.Rcode != dns.RcodeSuccess {
		t.Errorf("UDP: keepalive %d rcode %s, want none and NOERROR", keepaliveOf(r), rcodeName(r.Rcode))
	}
	m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_LOCAL{Code: dns.EDNS0TCPKEEPALIVE, Data: []byte{0, 50}}}
	if r := ts.send(t, "tcp", pack(t, m)); r.Rcode != dns.RcodeFormatError {
		t.Errorf("TCP with a timeout: rcode %s, want FORMERR", rcodeName(r.Rcode))
	}
	plain := msg(t, "www.gslb.example.com.", dns.TypeA, "")
	plain.SetEdns0(1232, false)
	if r := ts.send(t, "tcp", pack(t, plain)); keepaliveOf(r) != -1 {
		t.Errorf("TCP without the option: keepalive %d, want none", keepaliveOf(r))
	}
}
