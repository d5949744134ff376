// Package console is the controller's web console: a fleet map, PoP,
// origin, GSLB and event pages, live over server-sent events, with drain
// and undrain for admins. Its assets are embedded; it reads the
// controller's in-memory state through a Source and authorises callers
// with the same roles as the gRPC API.
package console

import (
	"context"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

//go:embed assets
var assets embed.FS

// Source is what the console reads and does: the controller's own state
// and Admin API, in process.
type Source interface {
	Status(ctx context.Context) (*v1.StatusResponse, error)
	State() *resource.State
	Snapshot() *v1.GslbSnapshot
	// Changed returns channels of which one is closed at the next change.
	Changed() []<-chan struct{}
	Drain(ctx context.Context, req *v1.DrainRequest) (*v1.DrainResponse, error)
	Undrain(ctx context.Context, req *v1.UndrainRequest) (*v1.UndrainResponse, error)
	// History returns the newest history records, newest first: who made
	// the desired-state writes the timeline shows.
	History(ctx context.Context, limit int) ([]*v1.HistoryEntry, error)
}

// Config says where the console listens and how it authenticates.
type Config struct {
	// Listen is host:port. Without TLS it must be a loopback address.
	Listen string
	// TLS, when set, requires client certificates from the API's CA; a
	// certificate's OrganizationalUnit is its role, as on the API.
	TLS    *tls.Config
	Source Source
	Logger *slog.Logger
}

// CheckListen refuses a plain-text console on anything but loopback.
func CheckListen(listen string, withTLS bool) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("want host:port: %w", err)
	}
	if withTLS {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		return nil
	}
	return errors.New("plain HTTP is served on loopback only: listen on 127.0.0.1 or [::1], or give the controller --tls-cert, --tls-key and --tls-client-ca so the console requires client certificates")
}

// Server is a running console.
type Server struct {
	cfg  Config
	lis  net.Listener
	http *http.Server
	hub  *hub
}

// Listen binds the console's address; Serve then serves it.
func Listen(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := CheckListen(cfg.Listen, cfg.TLS != nil); err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	if cfg.TLS != nil {
		t := cfg.TLS.Clone()
		t.ClientAuth = tls.RequireAndVerifyClientCert
		t.NextProtos = []string{"h2", "http/1.1"}
		lis = tls.NewListener(lis, t)
	}
	s := &Server{cfg: cfg, lis: lis, hub: newHub(cfg.Source, cfg.Logger)}
	key, err := newCSRFKey()
	if err != nil {
		lis.Close()
		return nil, err
	}
	s.http = &http.Server{
		Handler:           s.routes(key),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.lis.Addr() }

// URL is the console's base URL.
func (s *Server) URL() string {
	scheme := "http"
	if s.cfg.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + s.lis.Addr().String() + "/"
}

// Serve serves until ctx is cancelled, then shuts down and returns nil.
func (s *Server) Serve(ctx context.Context) error {
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hubDone := make(chan struct{})
	go func() { s.hub.run(hctx); close(hubDone) }()
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.lis) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel() // ends the event streams, so that Shutdown need not wait for them
	sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
	_ = s.http.Shutdown(sctx)
	scancel()
	<-hubDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func staticFS() fs.FS {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err)
	}
	return sub
}
