package dnsgslb_test

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	"github.com/miekg/dns"
)

// TestTCPFullServerClosesIdlest: with every one of the 1,024 connection
// slots held (64 from each of 16 clients, as from one host's IPv6 /60),
// a resolver sent to TCP by a truncated answer is still served: the
// connection that has waited longest for a query, here the first one,
// which sent nothing while the others were answered once, is closed to
// make room (RFC 7766 section 10), rather than the new one refused.
func TestTCPFullServerClosesIdlest(t *testing.T) {
	ts := startServer(t)
	dial := func(from string) net.Conn { return ts.dialTCPFrom(t, from) }
	var idle []net.Conn
	for i := range 16 {
		for range 64 {
			idle = append(idle, dial(fmt.Sprintf("127.0.0.%d", 10+i)))
		}
	}
	query := tcpFrame(pack(t, msg(t, "www.gslb.example.com.", dns.TypeA, "")))
	var prefix [2]byte
	answered := func(c net.Conn) error {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(query); err != nil {
			return err
		}
		_, err := io.ReadFull(c, prefix[:])
		return err
	}
	for i, c := range idle[1:] {
		if err := answered(c); err != nil {
			t.Fatalf("connection %d: %v", i+2, err)
		}
	}
	if got := gather(t, ts.Server)["anyctl_dns_tcp_connections{}"]; got != 1024 {
		t.Fatalf("connections open = %v, want 1024", got)
	}
	if err := answered(dial("127.0.1.1")); err != nil {
		t.Fatalf("a new client's query on a full server: %v, want an answer", err)
	}
	idle[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := idle[0].Read(prefix[:]); err != io.EOF {
		t.Errorf("read on the connection idle longest: %v, want EOF", err)
	}
	m := gather(t, ts.Server)
	if got := m["anyctl_dns_tcp_connections_closed_idle_total{}"]; got != 1 {
		t.Errorf("connections closed idle = %v, want 1", got)
	}
}

// TestTCPConfigured: the TCP limits are the server's configuration: a
// per-client limit of 2 refuses a third connection from one client, no
// limit (-1) takes more than the default 64 from one, and an idle timeout
// of 1 s is the keepalive offered and closes an idle connection. A bad
// value is refused by New, named.
func TestTCPConfigured(t *testing.T) {
	keepalive := msg(t, "www.gslb.example.com.", dns.TypeA, "")
	keepalive.SetEdns0(1232, false)
	keepalive.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_LOCAL{Code: dns.EDNS0TCPKEEPALIVE}}
	query := tcpFrame(pack(t, keepalive))
	ask := func(c net.Conn) (*dns.Msg, error) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(query); err != nil {
			return nil, err
		}
		var prefix [2]byte
		if _, err := io.ReadFull(c, prefix[:]); err != nil {
			return nil, err
		}
		b := make([]byte, int(prefix[0])<<8|int(prefix[1]))
		if _, err := io.ReadFull(c, b); err != nil {
			return nil, err
		}
		r := new(dns.Msg)
		return r, r.Unpack(b)
	}
	dialAll := func(t *testing.T, ts *testServer, n int) []net.Conn {
		var out []net.Conn
		for range n {
			out = append(out, ts.dialTCPFrom(t, "127.0.0.1"))
		}
		return out
	}

	ts := run(t, newServerWith(t, dnsgslb.Config{TCP: dnsgslb.TCPConfig{MaxPerClient: 2, IdleTimeout: time.Second}}, gslbtest.Snapshot()))
	conns := dialAll(t, ts, 3)
	r, err := ask(conns[0])
	if err != nil {
		t.Fatal(err)
	}
	if keepaliveOf(r) != 10 {
		t.Errorf("keepalive offered %d, want 10 (1 s)", keepaliveOf(r))
	}
	if _, err := ask(conns[1]); err != nil {
		t.Errorf("second connection: %v", err)
	}
	if _, err := ask(conns[2]); err == nil {
		t.Error("a third connection from one client was answered with at most 2 allowed")
	}
	conns[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conns[0].Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("a connection idle past 1 s: read %v, want EOF", err)
	}

	ts = run(t, newServerWith(t, dnsgslb.Config{TCP: dnsgslb.TCPConfig{MaxPerClient: -1}}, gslbtest.Snapshot()))
	for i, c := range dialAll(t, ts, 100) {
		if _, err := ask(c); err != nil {
			t.Fatalf("connection %d of 100 from one client without a per-client limit: %v", i+1, err)
		}
	}

	_, err = dnsgslb.New(dnsgslb.Config{Listen: "127.0.0.1:0", TCP: dnsgslb.TCPConfig{IdleTimeout: 2 * time.Hour}})
	if want := "dnsgslb: TCP.IdleTimeout 2h0m0s: want 100ms to 1h0m0s (0 for 10s)"; err == nil || err.Error() != want {
		t.Errorf("New with a 2 h idle timeout: %v, want %s", err, want)
	}
}
