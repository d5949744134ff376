package controller_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestIdleConnectionsAreLimited opens idle raw TCP connections from one
// address (127.0.0.2, which the test does not count as local) beyond the
// per-address cap: those beyond it are closed at once and counted, an
// operator on 127.0.0.1 still gets in, and the idle ones are closed after
// the handshake window.
func TestIdleConnectionsAreLimited(t *testing.T) {
	const perIP, window = 3, time.Second
	r := controllertest.StartAt(t, t.TempDir(), func(c *controller.Config) {
		c.MaxConnections = 5
		c.MaxConnectionsPerIP = perIP
		c.HandshakeTimeout = window
		c.LocalAddrs = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	remote := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}

	start := time.Now()
	var idle []net.Conn
	for range perIP + 2 {
		c, err := remote.Dial("tcp", r.Addr)
		if err != nil {
			t.Fatalf("dialing from 127.0.0.2: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		idle = append(idle, c)
	}

	// (b) An operator call over loopback succeeds promptly.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := r.Admin.List(ctx, &v1.ListRequest{}); err != nil {
		t.Fatalf("operator List over 127.0.0.1 with %d idle connections from 127.0.0.2: %v", len(idle), err)
	}

	// (a) Those beyond the cap were refused and counted.
	if got := refusedConns(t, r, "per_ip_limit"); got != 2 {
		t.Errorf("connections refused for the per-IP cap = %v, want 2", got)
	}
	// (c) Every idle connection is closed: the two beyond the cap at once,
	// the others after the handshake window (generous bound).
	for i, c := range idle {
		if err := awaitClosed(c, 5*time.Second); err != nil {
			t.Errorf("idle connection %d (window %s): %v", i, window, err)
		}
	}
	if !t.Failed() {
		t.Logf("all %d idle connections closed after %s", len(idle), time.Since(start).Round(time.Millisecond))
	}
}

// awaitClosed reads from c until the peer closes it or within passes.
func awaitClosed(c net.Conn, within time.Duration) error {
	c.SetReadDeadline(time.Now().Add(within))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return errors.New("still open after " + within.String())
		}
		if err != nil {
			return nil // EOF or reset: closed by the controller
		}
	}
}

// refusedConns scrapes anyctl_controller_connections_refused_total{reason}.
func refusedConns(t *testing.T, r *controllertest.Running, reason string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + r.Ctrl.MetricsAddr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	want := `anyctl_controller_connections_refused_total{reason="` + reason + `"} `
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), want); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return 0
}
