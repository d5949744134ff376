package dnsgslb_test

import (
	"bufio"
	"bytes"
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
// server reads and discards what it sends for a second at most (tcpDrainTime,
// here set apart from the other bounds by a factor of ten or more, so
// that a busy machine cannot blur them), less when the idle timeout is
// shorter, and 64 KB at most, then closes, and a write fails soon after.
func TestTCPCloseBounded(t *testing.T) {
	for _, tc := range []struct {
		desc  string
		drain time.Duration
		idle  time.Duration
		chunk int // sent every 10 ms, or at once if 0
	}{
		// 500 bytes every 10 ms: 50 KB/s, slow enough that time, not
		// the bytes read, ends the connection.
		{"sending slowly: the drain time", time.Second, 2 * time.Minute, 500},
		{"sending slowly: the idle timeout", time.Minute, 200 * time.Millisecond, 500},
		{"sending fast: 64 KB", time.Minute, 2 * time.Minute, 0},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			dnsgslb.SetTCPDrainTime(t, tc.drain)
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
				if d := time.Since(start); d > 10*time.Second {
					t.Fatalf("the connection is still open %v after a message shorter than a header", d.Round(time.Millisecond))
				}
				if tc.chunk > 0 {
					time.Sleep(10 * time.Millisecond)
				}
			}
			t.Logf("closed %v after the message", time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestTCPCloseAtStop: a connection the server is closing after a message
// shorter than a DNS header, the client still connected, does not hold
// up the server's stop: here it would read the client's input for a
// minute, and the stop must come well before.
func TestTCPCloseAtStop(t *testing.T) {
	dnsgslb.SetTCPDrainTime(t, time.Minute)
	s := newServerWith(t, dnsgslb.Config{TCP: dnsgslb.TCPConfig{IdleTimeout: 2 * time.Minute}}, gslbtest.Snapshot())
	ts, stop := runUntil(t, s)
	c, err := net.Dial("tcp", ts.tcp)
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
	stop() // fails the test when Run has not returned 20 s after
}
