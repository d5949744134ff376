package dnsgslb_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestTCPShortMessageRepliesDelivered: when a connection is closed for a
// message shorter than a DNS header, the replies to the queries before
// it reach the client even though the client sent more after it and has
// not read them yet. The queries, the short message and 16 KB more go
// in one write; the server reads up to 4 KB at a time, so most of it is
// still unread in its socket when it closes. Closed with bytes unread,
// Linux resets the connection and drops what it has not yet sent: here
// the replies past the client's small receive window (4 KB), which reads
// only 100 ms later. The client must read every reply and then EOF.
func TestTCPShortMessageRepliesDelivered(t *testing.T) {
	ts := startServer(t)
	const queries = 200
	query := tcpFrame(pack(t, msg(t, "www.gslb.example.com.", dns.TypeA, "")))
	var out []byte
	for range queries {
		out = append(out, query...)
	}
	out = append(out, 0, 5)                                      // shorter than a header
	out = append(out, bytes.Repeat(query, 16<<10/len(query))...) // the rest of the stream
	for round := range 5 {
		d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			})
			return errors.Join(err, serr)
		}}
		c, err := d.Dial("tcp", ts.tcp)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(out); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(c)
		var prefix [2]byte
		for i := range queries {
			if _, err := io.ReadFull(r, prefix[:]); err != nil {
				c.Close()
				t.Fatalf("round %d: reply %d of %d: %v", round, i+1, queries, err)
			}
			if _, err := r.Discard(int(prefix[0])<<8 | int(prefix[1])); err != nil {
				c.Close()
				t.Fatalf("round %d: reply %d of %d: %v", round, i+1, queries, err)
			}
		}
		if _, err := r.ReadByte(); err != io.EOF {
			t.Errorf("round %d: after %d replies, read %v; want EOF", round, queries, err)
		}
		c.Close()
	}
}

// TestTCPCloseBounded: a client that goes on sending after a message
// shorter than a DNS header does not keep its connection open: the
// server reads and discards what it sends for a second at most, less
// when the idle timeout is shorter, and 64 KB at most, then closes, and a
// write fails soon after.
func TestTCPCloseBounded(t *testing.T) {
	for _, tc := range []struct {
		desc   string
		idle   time.Duration
		chunk  int // sent every 10 ms, or at once if 0
		within time.Duration
	}{
		// 500 bytes every 10 ms: 50 KB/s, slow enough that time, not
		// the bytes read, ends the connection.
		{"sending slowly", 0, 500, 3 * time.Second},
		{"sending slowly, an idle timeout of 200 ms", 200 * time.Millisecond, 500, 800 * time.Millisecond},
		{"sending fast", 0, 0, 800 * time.Millisecond},
	} {
		s := newServerWith(t, dnsgslb.Config{TCP: dnsgslb.TCPConfig{IdleTimeout: tc.idle}}, gslbtest.Snapshot())
		ts := run(t, s)
		query := tcpFrame(pack(t, msg(t, "www.gslb.example.com.", dns.TypeA, "")))
		c, err := net.Dial("tcp", ts.tcp)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		if _, err := c.Write(append(query, 0, 5)); err != nil {
			t.Fatal(err)
		}
		chunk := make([]byte, tc.chunk)
		if tc.chunk == 0 {
			chunk = make([]byte, 64<<10)
		}
		for {
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write(chunk); err != nil {
				break
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("%s: the connection is still open 5 s after a message shorter than a header", tc.desc)
			}
			if tc.chunk > 0 {
				time.Sleep(10 * time.Millisecond)
			}
		}
		if d := time.Since(start); d > tc.within {
			t.Errorf("%s: the connection closed %v after a message shorter than a header; want within %v", tc.desc, d.Round(time.Millisecond), tc.within)
		}
	}
}

// TestTCPCloseAtStop: a connection the server is closing after a message
// shorter than a DNS header, the client still connected, does not hold
// up the server's stop.
func TestTCPCloseAtStop(t *testing.T) {
	s := newServer(t, "", gslbtest.Snapshot())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server not ready")
	}
	_, addr := s.Addr()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	query := tcpFrame(pack(t, msg(t, "www.gslb.example.com.", dns.TypeA, "")))
	if _, err := c.Write(append(query, 0, 5)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	readTCP(t, r)
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("after the reply, read %v; want EOF", err)
	}
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Run returned %v after cancel, a connection being closed open; want at once", d.Round(time.Millisecond))
	}
}
