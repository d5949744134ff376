package controller

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// acceptedPair returns the two ends of a loopback TCP connection, the
// server's accepted through the API's limit listener.
func acceptedPair(t *testing.T) (server net.Conn, client *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newLimitListener(ln, connLimits{max: 10, perIP: 10, local: 10}, slog.New(slog.NewTextHandler(io.Discard, nil)), func(string) {})
	defer l.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); c.Close() })
	return s, c.(*net.TCPConn)
}

// TestAPIConnectionsReadRaw: the API's TCP connections read through the
// raw reader, and it reads as net.Conn does: data as it comes, a read
// deadline's error, net.ErrClosed after Close, io.EOF at the peer's
// close, the reset at the peer's reset.
func TestAPIConnectionsReadRaw(t *testing.T) {
	s, c := acceptedPair(t)
	if lc, ok := s.(*limitedConn); !ok || lc.raw == nil {
		t.Fatalf("an accepted TCP connection (%T) does not read through the raw reader", s)
	}
	buf := make([]byte, 64)
	if n, err := s.Read(buf[:0]); n != 0 || err != nil {
		t.Errorf("a read of nothing: %d, %v", n, err)
	}
	go c.Write([]byte("report"))
	if n, err := s.Read(buf); err != nil || string(buf[:n]) != "report" {
		t.Fatalf("read %q, %v; want \"report\"", buf[:n], err)
	}
	s.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := s.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read past its deadline: %v, want os.ErrDeadlineExceeded", err)
	}
	var ne net.Error
	if _, err := s.Read(buf); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("read past its deadline: %v is not a net.Error timing out", err)
	}
	s.SetReadDeadline(time.Time{})
	c.Close()
	if n, err := s.Read(buf); n != 0 || err != io.EOF {
		t.Errorf("read after the peer closed: %d, %v; want io.EOF", n, err)
	}
	s.Close()
	if _, err := s.Read(buf); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after Close: %v, want net.ErrClosed", err)
	}

	s, c = acceptedPair(t)
	c.SetLinger(0)
	c.Write([]byte("x"))
	if n, err := s.Read(buf); n != 1 || err != nil {
		t.Fatalf("read %d, %v; want 1 byte", n, err)
	}
	c.Close() // with linger 0: a reset
	if _, err := s.Read(buf); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("read after the peer's reset: %v, want ECONNRESET", err)
	}
}

// TestRawReadWaitsInThePoller: a read that waits for data blocks its
// goroutine in the network poller, not its thread, and returns when the
// data comes; a reader blocked on one connection does not hold up
// another's.
func TestRawReadWaitsInThePoller(t *testing.T) {
	s1, c1 := acceptedPair(t)
	s2, c2 := acceptedPair(t)
	got := make(chan string, 2)
	for _, s := range []net.Conn{s1, s2} {
		go func() {
			buf := make([]byte, 16)
			n, err := s.Read(buf)
			if err != nil {
				got <- err.Error()
				return
			}
			got <- string(buf[:n])
		}()
	}
	time.Sleep(10 * time.Millisecond)
	c2.Write([]byte("two"))
	if g := <-got; g != "two" {
		t.Fatalf("first read returned %q, want \"two\" (the connection written to)", g)
	}
	c1.Write([]byte("one"))
	if g := <-got; g != "one" {
		t.Fatalf("second read returned %q, want \"one\"", g)
	}
}
