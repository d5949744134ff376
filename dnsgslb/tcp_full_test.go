package dnsgslb_test

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"

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
	dial := func(from string) net.Conn {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c, err := d.Dial("tcp", ts.tcp)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
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
