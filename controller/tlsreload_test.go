package controller_test

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/authn/authntest"
	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// serverSerial is the serial of the certificate the controller showed on
// conn, found by calling List on it.
func serverSerial(t *testing.T, conn *grpc.ClientConn) (*big.Int, error) {
	t.Helper()
	ctx, cancel := callContext()
	defer cancel()
	var p peer.Peer
	if _, err := v1.NewAdminServiceClient(conn).List(ctx, &v1.ListRequest{}, grpc.Peer(&p)); err != nil {
		return nil, err
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return nil, fmt.Errorf("no TLS on the connection: %T", p.AuthInfo)
	}
	return info.State.PeerCertificates[0].SerialNumber, nil
}

// awaitCond polls cond for up to 15 s.
func awaitCond(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTLSServerCertificateRenewedWithoutRestart rewrites the controller's
// certificate and key in place: new connections get the new certificate,
// while a connection and a stream opened before go on.
func TestTLSServerCertificateRenewedWithoutRestart(t *testing.T) {
	tc := startTLS(t)
	old := tc.dialAs(t, "alice", authn.RoleAdmin)
	first, err := serverSerial(t, old)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watch, err := v1.NewAdminServiceClient(old).Watch(ctx, &v1.WatchRequest{Kind: v1.Kind_KIND_POP})
	if err != nil {
		t.Fatal(err)
	}

	renewed := tc.ca.Server(t)
	authntest.Rewrite(t, authntest.Pair{Cert: tc.server.Cert, Key: tc.server.Key}, renewed)
	var want *big.Int
	client := credentials.NewTLS(tc.ca.ClientTLS(t, "alice", authn.RoleAdmin))
	awaitCond(t, "a new connection to get the renewed certificate", func() bool {
		conn, err := grpc.NewClient(tc.Addr, grpc.WithTransportCredentials(client))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		s, err := serverSerial(t, conn)
		if err != nil {
			t.Fatal(err)
		}
		if s.Cmp(first) != 0 {
			want = s
		}
		return want != nil
	})
	metrics := scrape(t, "http://"+tc.Ctrl.MetricsAddr().String()+"/metrics")
	if line := fmt.Sprintf("anyctl_tls_reloads_total{file=%q,result=\"ok\"} 1\n", tc.server.Cert); !strings.Contains(metrics, line) {
		t.Errorf("metrics lack %q:\n%s", line, grepLines(metrics, "anyctl_tls_"))
	}

	// The connection made before the renewal still carries calls, and
	// its stream goes on: a change made on it reaches the watch.
	if s, err := serverSerial(t, old); err != nil || s.Cmp(first) != 0 {
		t.Fatalf("old connection after the renewal: serial %x, %v; want %x", s, err, first)
	}
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if p := o.GetPop(); p != nil && p.GetMetadata().GetName() == "tokyo" {
			p.Metadata.Description = "renewed certificate"
		}
	}
	actx, acancel := callContext()
	defer acancel()
	if _, err := v1.NewAdminServiceClient(old).Apply(actx, &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatalf("Apply on the old connection: %v", err)
	}
	ev, err := watch.Recv()
	if err != nil {
		t.Fatalf("watch opened before the renewal: %v", err)
	}
	if got := ev.GetObject().GetPop().GetMetadata().GetDescription(); got != "renewed certificate" {
		t.Fatalf("watch event: tokyo's description %q", got)
	}
}

// TestTLSBadRewriteKeepsServing: a key that does not match the rewritten
// certificate leaves the last good pair in use, and the metric says so.
func TestTLSBadRewriteKeepsServing(t *testing.T) {
	tc := startTLS(t)
	first, err := serverSerial(t, tc.dialAs(t, "alice", authn.RoleAdmin))
	if err != nil {
		t.Fatal(err)
	}
	other := tc.ca.Server(t)
	authntest.Rewrite(t, authntest.Pair{Cert: tc.server.Cert, Key: tc.server.Key}, authntest.Pair{Cert: other.Cert, Key: tc.server.Key})
	failing := fmt.Sprintf("anyctl_tls_reload_failing{file=%q} 1\n", tc.server.Cert)
	awaitCond(t, "the failing reload to show in the metrics", func() bool {
		return strings.Contains(scrape(t, "http://"+tc.Ctrl.MetricsAddr().String()+"/metrics"), failing)
	})
	if s, err := serverSerial(t, tc.dialAs(t, "bob", authn.RoleViewer)); err != nil || s.Cmp(first) != 0 {
		t.Fatalf("new connection after a bad rewrite: serial %x, %v; want the one in use %x", s, err, first)
	}
}

// TestTLSConsoleServesRenewedCertificate: the console shares the API's
// files; after a renewal a new HTTPS connection (HTTP/2 or HTTP/1.1) gets
// the renewed certificate.
func TestTLSConsoleServesRenewedCertificate(t *testing.T) {
	ca := authntest.NewCA(t, "fleet")
	server := ca.ServerFiles(t)
	r := controllertest.StartAt(t, t.TempDir(), func(c *controller.Config) {
		c.TLSCert, c.TLSKey, c.TLSClientCA = server.Cert, server.Key, server.CA
		c.ConsoleListen = "127.0.0.1:0"
	})
	client := ca.ClientTLS(t, "bob", authn.RoleViewer)
	get := func(proto string) (*big.Int, error) {
		cfg := client.Clone()
		cfg.NextProtos = []string{proto}
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: proto == "h2"}, Timeout: 10 * time.Second}
		defer hc.CloseIdleConnections()
		resp, err := hc.Get(r.Ctrl.ConsoleURL())
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", r.Ctrl.ConsoleURL(), resp.Status)
		}
		if resp.TLS.NegotiatedProtocol != proto {
			return nil, fmt.Errorf("negotiated %q, want %q", resp.TLS.NegotiatedProtocol, proto)
		}
		return resp.TLS.PeerCertificates[0].SerialNumber, nil
	}
	first, err := get("http/1.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := get("h2"); err != nil {
		t.Fatal(err)
	}
	authntest.Rewrite(t, authntest.Pair{Cert: server.Cert, Key: server.Key}, ca.Server(t))
	awaitCond(t, "the console to serve the renewed certificate", func() bool {
		s, err := get("h2")
		if err != nil {
			t.Fatal(err)
		}
		return s.Cmp(first) != 0
	})
}

// TestTLSClientCABundleRenewed: a CA added to --tls-client-ca's bundle is
// trusted for new connections without a restart, while clients of the
// first CA go on.
func TestTLSClientCABundleRenewed(t *testing.T) {
	tc := startTLS(t)
	next := authntest.NewCA(t, "fleet-next")
	cfg := next.ClientTLS(t, "alice", authn.RoleAdmin)
	cfg.RootCAs = tc.ca.ClientTLS(t, "probe", authn.RoleViewer).RootCAs // trusts the controller's certificate
	list := func() error {
		conn, err := grpc.NewClient(tc.Addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := callContext()
		defer cancel()
		return listRPC.call(ctx, conn)
	}
	if err := list(); err == nil {
		t.Fatal("a client of a CA the controller does not trust yet was let in")
	}
	bundle := string(mustReadFile(t, tc.server.CA)) + string(mustReadFile(t, next.CertFile))
	if err := os.WriteFile(tc.server.CA, []byte(bundle), 0o600); err != nil {
		t.Fatal(err)
	}
	awaitCond(t, "the controller to trust the added CA", func() bool { return list() == nil })
	ctx, cancel := callContext()
	defer cancel()
	if err := listRPC.call(ctx, tc.dialAs(t, "bob", authn.RoleViewer)); err != nil {
		t.Fatalf("a client of the first CA after the bundle changed: %v", err)
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
