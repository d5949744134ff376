package dnsgslb

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// serveUntilEnd runs s until the test ends and returns once it serves.
func serveUntilEnd(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
}

// exported is the value of the server's metric name, without labels.
func exported(t *testing.T, s *Server, name string) float64 {
	t.Helper()
	return collected(t, s.Collector(), name)
}

// collected is the value c exports as the metric name, which has one
// series.
func collected(t *testing.T, c prometheus.Collector, name string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		m := f.GetMetric()[0]
		if c := m.GetCounter(); c != nil {
			return c.GetValue()
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("no metric %s", name)
	return 0
}
