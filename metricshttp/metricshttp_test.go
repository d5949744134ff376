package metricshttp_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/anyctl/anyctl/metricshttp"
)

// TestServesTheRegistry scrapes /metrics over TCP and a Unix socket, then
// checks that Close ends Serve with nil.
func TestServesTheRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "anyctl_test_answer"})
	g.Set(42)
	reg.MustRegister(g)
	sock := filepath.Join(t.TempDir(), "metrics.sock")
	for _, addr := range []string{"127.0.0.1:0", "unix:" + sock} {
		t.Run(addr, func(t *testing.T) {
			s, err := metricshttp.Listen(addr, reg)
			if err != nil {
				t.Fatal(err)
			}
			served := make(chan error, 1)
			go func() { served <- s.Serve() }()
			body := scrape(t, s.Addr())
			if !strings.Contains(body, "anyctl_test_answer 42\n") {
				t.Errorf("/metrics lacks anyctl_test_answer 42:\n%s", body)
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			select {
			case err := <-served:
				if err != nil {
					t.Errorf("Serve after Close: %v, want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return within 10s of Close")
			}
		})
	}
}

// TestCloseWithoutServe releases the address of a server that never
// served.
func TestCloseWithoutServe(t *testing.T) {
	s, err := metricshttp.Listen("127.0.0.1:0", prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr().String()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	again, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the address is still bound after Close: %v", err)
	}
	again.Close()
}

func TestListenError(t *testing.T) {
	if _, err := metricshttp.Listen("7403", prometheus.NewRegistry()); err == nil || !strings.Contains(err.Error(), "want host:port or unix:PATH") {
		t.Fatalf("Listen(%q): %v, want an error asking for host:port or unix:PATH", "7403", err)
	}
}

func scrape(t *testing.T, addr net.Addr) string {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return new(net.Dialer).DialContext(ctx, addr.Network(), addr.String())
		},
	}}
	resp, err := c.Get("http://metrics/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}
