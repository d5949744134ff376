package dnsgslb_test

import (
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestTCPSlowClientsHoldLittleMemory: a connection that waits for the
// rest of a query (a length prefix of 65,535 and one byte, slowloris), or
// for its client to read its replies, holds about what it was sent and
// what it is owed, not the 130 KB buffers a query is answered in: 64
// connections of each kind from two clients stay under 48 KB apiece.
func TestTCPSlowClientsHoldLittleMemory(t *testing.T) {
	ts := startServer(t)
	dial := func(from string, rcvbuf int) net.Conn {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		if rcvbuf > 0 {
			d.Control = func(_, _ string, rc syscall.RawConn) error {
				return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf) })
			}
		}
		c, err := d.Dial("tcp", ts.tcp)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	runtime.GC()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	const n = 64
	for range n {
		c := dial("127.0.0.1", 0)
		if _, err := c.Write([]byte{0xFF, 0xFF, 0}); err != nil {
			t.Fatal(err)
		}
	}
	// Queries for an answer of 1.7 KB, pipelined and never read.
	var out []byte
	for range 2000 {
		out = append(out, tcpFrame(pack(t, msg(t, "big.gslb.example.com.", dns.TypeTXT, "")))...)
	}
	for range n {
		c := dial("127.0.0.2", 4096)
		go func() {
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			c.Write(out) // blocks once the server stops reading
		}()
	}
	for deadline := time.Now().Add(5 * time.Second); gather(t, ts.Server)["anyctl_dns_tcp_connections{}"] != 2*n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections not open within 5 s", 2*n)
		}
	}
	// Watch the heap for 2 s: the replies fill the connections' socket
	// buffers within milliseconds.
	const bound = 2 * n * 48 << 10
	var grown int64
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var now runtime.MemStats
		runtime.ReadMemStats(&now)
		if grown = int64(now.HeapInuse) - int64(before.HeapInuse); grown > bound {
			break
		}
	}
	t.Logf("heap grew %d KB", grown>>10)
	if grown > bound {
		t.Errorf("the heap grew %d KB for %d slow connections, want under %d KB", grown>>10, 2*n, bound>>10)
	}
}
