package dnsgslb_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestTCPShortMessageCloses: a TCP message shorter than a DNS header (12
// bytes) cannot be answered, not even with its ID; the server closes the
// connection at once, as NSD and Knot DNS do, after the replies to the
// queries before it, and answers nothing after it. The connection is not
// left open until the idle timeout (10 s; the client waits 3 s here).
// A message of a whole header, the question missing, is answered
// FORMERR, as NSD answers a question cut short, and the next query on
// the connection is answered.
func TestTCPShortMessageCloses(t *testing.T) {
	ts := startServer(t)
	query := join(wireHeader(0, 1, 0, 0, 0), wireQuestion())
	for _, n := range []int{0, 1, 5, 11, 12} {
		for _, before := range []bool{false, true} {
			desc := fmt.Sprintf("a message of %d bytes", n)
			var out []byte
			var want []int // rcodes
			if before {
				desc = "a query, then " + desc
				out = tcpFrame(query)
				want = append(want, dns.RcodeSuccess)
			}
			out = append(append(out, tcpFrame(query[:n])...), tcpFrame(query)...)
			if n >= 12 {
				want = append(want, dns.RcodeFormatError, dns.RcodeSuccess)
			}
			c, err := net.Dial("tcp", ts.tcp)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write(out); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			c.SetReadDeadline(start.Add(3 * time.Second))
			r := bufio.NewReader(c)
			for i, rcode := range want {
				var m dns.Msg
				if err := m.Unpack(readTCP(t, r)); err != nil {
					t.Fatalf("%s: reply %d: %v", desc, i, err)
				}
				if m.Rcode != rcode {
					t.Errorf("%s: reply %d: rcode %s, want %s", desc, i, rcodeName(m.Rcode), rcodeName(rcode))
				}
			}
			if n >= 12 {
				c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			}
			_, err = r.ReadByte()
			closed := errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
			switch {
			case n < 12 && err == nil:
				t.Errorf("%s: after %d replies, a reply to the query after it; want the connection closed", desc, len(want))
			case n < 12 && !closed:
				t.Errorf("%s: after %d replies, read %v after %v; want the connection closed at once", desc, len(want), err, time.Since(start).Round(time.Millisecond))
			case n >= 12 && !errors.Is(err, os.ErrDeadlineExceeded):
				t.Errorf("%s: after %d replies, read %v; want the connection open", desc, len(want), err)
			}
		}
	}
}
