package controlconn_test

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/authn/authntest"
	"github.com/anyctl/anyctl/controlconn"
)

// TestDial calls a real gRPC server on loopback in plain text and with
// mutual TLS.
func TestDial(t *testing.T) {
	ca := authntest.NewCA(t, "fleet")
	serverTLS, err := authn.ServerConfig(ca.ServerFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		desc           string
		server, client *tls.Config
	}{
		{desc: "plain text"},
		{desc: "mutual TLS", server: serverTLS, client: ca.ClientTLS(t, "ns1", authn.RoleDNS)},
	} {
		t.Run(c.desc, func(t *testing.T) {
			addr := serveHealth(t, c.server)
			conn, err := controlconn.Dial(addr, c.client)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
			if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Fatalf("health check: %v, %v; want SERVING", resp.GetStatus(), err)
			}
		})
	}
}

// serveHealth serves gRPC health checking on loopback, with tlsCfg when
// not nil, until the test ends.
func serveHealth(t *testing.T, tlsCfg *tls.Config) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var opts []grpc.ServerOption
	if tlsCfg != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	gs := grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(gs, health.NewServer())
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	return lis.Addr().String()
}

// TestDialTargetChecksTheName: a target resolved from a name is dialled by
// address, and the controller's certificate is checked against the name.
func TestDialTargetChecksTheName(t *testing.T) {
	ca := authntest.NewCA(t, "fleet")
	serverTLS, err := authn.ServerConfig(ca.ServerFiles(t)) // valid for localhost and 127.0.0.1
	if err != nil {
		t.Fatal(err)
	}
	addr := serveHealth(t, serverTLS)
	_, port, _ := net.SplitHostPort(addr)
	client, err := authn.ClientConfig(ca.ClientFiles(t, "ns1", authn.RoleDNS), "") // no fixed name
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		authority string
		ok        bool
	}{
		{authority: "localhost:" + port, ok: true},
		{authority: "", ok: true}, // the address itself: 127.0.0.1
		{authority: "ctl.example:" + port, ok: false},
	} {
		conn, err := controlconn.DialTarget(controlconn.Target{Addr: addr, Authority: c.authority}, client)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		conn.Close()
		if (err == nil) != c.ok {
			t.Errorf("authority %q: health check error %v; want success %v", c.authority, err, c.ok)
		}
	}
}
