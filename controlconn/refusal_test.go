package controlconn_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/authn/authntest"
	"github.com/anyctl/anyctl/controlconn"
)

// TestRefusalsExplained dials a mutual-TLS server with a certificate from
// another CA and in plain text, and checks that the client's error and the
// server's log say what was refused and why, the log once per remote IP.
func TestRefusalsExplained(t *testing.T) {
	ca := authntest.NewCA(t, "fleet")
	foreign := authntest.NewCA(t, "foreign")
	serverTLS, err := authn.ServerConfig(ca.ServerFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	var refused atomic.Int64
	log := slog.New(slog.NewTextHandler(&logs, nil))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(authn.ServerOptions(serverTLS, log, func(string) { refused.Add(1) })...)
	healthpb.RegisterHealthServer(gs, health.NewServer())
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	addr := lis.Addr().String()

	// The foreign client trusts the fleet CA, so only the controller's
	// verdict on its certificate can fail the call.
	foreignTLS := foreign.ClientTLS(t, "tokyo", authn.RoleAgent)
	foreignTLS.RootCAs = ca.ClientTLS(t, "x", authn.RoleAgent).RootCAs
	for _, c := range []struct {
		desc       string
		client     func() error
		wantClient string
		wantLog    string
	}{
		{desc: "foreign CA", client: func() error { return check(addr, foreignTLS) }, wantClient: "the controller refused our certificate: it was not signed by the controller's CA", wantLog: "reason=no_certificate"},
		{desc: "plain text", client: func() error { return check(addr, nil) }, wantClient: "it speaks TLS; set --tls-ca, --tls-cert and --tls-key", wantLog: "reason=plaintext"},
	} {
		t.Run(c.desc, func(t *testing.T) {
			logs.Reset()
			before := refused.Load()
			for range 2 {
				err := c.client()
				if err == nil || !strings.Contains(err.Error(), c.wantClient) {
					t.Fatalf("client error: %v; want one containing %q", err, c.wantClient)
				}
			}
			deadline := time.Now().Add(10 * time.Second)
			// The refusal is counted, then logged: wait for both.
			for (refused.Load() < before+2 || !strings.Contains(logs.String(), "TLS handshake refused")) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if got := refused.Load() - before; got != 2 {
				t.Errorf("refusals counted: %d; want 2", got)
			}
			out := logs.String()
			if n := strings.Count(out, "TLS handshake refused"); n != 1 || !strings.Contains(out, c.wantLog) || !strings.Contains(out, "remote=127.0.0.1:") {
				t.Errorf("server log (%d refusal lines, want 1 with %q and the remote address):\n%s", n, c.wantLog, out)
			}
		})
	}
}

// check makes one health check call that does not wait for the
// connection to become ready.
func check(addr string, tlsCfg *tls.Config) error {
	conn, err := controlconn.Dial(addr, tlsCfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

// syncBuffer is a bytes.Buffer that a logger and the test share.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}
