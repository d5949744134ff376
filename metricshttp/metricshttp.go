// Package metricshttp serves a Prometheus registry at /metrics on a listen
// address: the metrics listener every anyctl daemon runs.
package metricshttp

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/anyctl/anyctl/endpoint"
)

// Server is a bound metrics listener.
type Server struct {
	lis  net.Listener
	http *http.Server
}

// Listen binds addr (host:port, or unix:PATH) for g's metrics; they are
// served once Serve runs. The caller wraps the error with the flag or
// setting that named addr.
func Listen(addr string, g prometheus.Gatherer) (*Server, error) {
	lis, err := endpoint.Listen(addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	return &Server{lis: lis, http: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}, nil
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.lis.Addr() }

// Serve serves until Close or Shutdown, then returns nil; any other error
// means the metrics are no longer served.
func (s *Server) Serve() error {
	if err := s.http.Serve(s.lis); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting scrapes and waits, until ctx ends, for those in
// progress.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	s.lis.Close() // in case Serve never ran
	return err
}

// Close stops at once. Closing a server that never served closes its
// listener.
func (s *Server) Close() error {
	err := s.http.Close()
	s.lis.Close() // in case Serve never ran
	return err
}
