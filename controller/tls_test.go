package controller_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
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
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// tlsController is a controller requiring client certificates of ca, with
// the example deployment applied by an admin.
type tlsController struct {
	*controllertest.Running
	ca *authntest.CA
	// server are the controller's TLS files.
	server authn.Files
}

func startTLS(t *testing.T) *tlsController {
	t.Helper()
	ca := authntest.NewCA(t, "fleet")
	server := ca.ServerFiles(t)
	r := controllertest.StartAt(t, t.TempDir(), func(c *controller.Config) {
		c.TLSCert, c.TLSKey, c.TLSClientCA = server.Cert, server.Key, server.CA
	})
	tc := &tlsController{Running: r, ca: ca, server: server}
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := callContext()
	defer cancel()
	if _, err := v1.NewAdminServiceClient(tc.dialAs(t, "alice", authn.RoleAdmin)).Apply(ctx, &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatalf("an admin applying the examples: %v", err)
	}
	return tc
}

// dialAs connects with a client certificate for name with role.
func (tc *tlsController) dialAs(t *testing.T, name string, role authn.Role) *grpc.ClientConn {
	t.Helper()
	return dialWith(t, tc.Addr, credentials.NewTLS(tc.ca.ClientTLS(t, name, role)))
}

func dialWith(t *testing.T, addr string, creds credentials.TransportCredentials) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func callContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// rpc is one call a test makes, by its short name.
type rpc struct {
	name string
	call func(context.Context, *grpc.ClientConn) error
}

var (
	applyRPC = rpc{"Apply", func(ctx context.Context, c *grpc.ClientConn) error {
		objs, err := manifest.LoadFS(examples.FS)
		if err != nil {
			return err
		}
		_, err = v1.NewAdminServiceClient(c).Apply(ctx, &v1.ApplyRequest{Objects: objs, DryRun: true})
		return err
	}}
	getRPC = rpc{"Get", func(ctx context.Context, c *grpc.ClientConn) error {
		_, err := v1.NewAdminServiceClient(c).Get(ctx, &v1.GetRequest{Kind: v1.Kind_KIND_POP, Name: "tokyo"})
		return err
	}}
	listRPC = rpc{"List", func(ctx context.Context, c *grpc.ClientConn) error {
		_, err := v1.NewAdminServiceClient(c).List(ctx, &v1.ListRequest{})
		return err
	}}
	statusRPC = rpc{"Status", func(ctx context.Context, c *grpc.ClientConn) error {
		_, err := v1.NewAdminServiceClient(c).Status(ctx, &v1.StatusRequest{})
		return err
	}}
	deleteRPC = rpc{"Delete", func(ctx context.Context, c *grpc.ClientConn) error {
		_, err := v1.NewAdminServiceClient(c).Delete(ctx, &v1.DeleteRequest{Kind: v1.Kind_KIND_POP, Name: "tokyo"})
		return err
	}}
	drainRPC = rpc{"Drain", func(ctx context.Context, c *grpc.ClientConn) error {
		_, err := v1.NewAdminServiceClient(c).Drain(ctx, &v1.DrainRequest{Pop: "tokyo"})
		return err
	}}
	subscribeRPC = rpc{"Subscribe", func(ctx context.Context, c *grpc.ClientConn) error {
		stream, err := v1.NewGslbFeedServiceClient(c).Subscribe(ctx, &v1.SubscribeRequest{ServerName: "ns1"})
		if err != nil {
			return err
		}
		msg, err := stream.Recv()
		if err == nil && msg.GetSnapshot() == nil {
			return status.Error(codes.Internal, "the first message holds no snapshot")
		}
		return err
	}}
	connectTokyoRPC = rpc{"Connect", func(ctx context.Context, c *grpc.ClientConn) error {
		_, err := connectAs(ctx, c, "tokyo")
		return err
	}}
)

// connectAs opens an Agent API stream saying hello as pop, and returns the
// first config.
func connectAs(ctx context.Context, c *grpc.ClientConn, pop string) (*v1.PopConfig, error) {
	stream, err := v1.NewAgentServiceClient(c).Connect(ctx)
	if err != nil {
		return nil, err
	}
	// io.EOF: the stream has ended, refused before the hello went out;
	// gRPC gives the reason only to Recv.
	if err := stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: &v1.AgentHello{Pop: pop}}}); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	msg, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	return msg.GetConfig(), nil
}

// TestTLSRoles calls methods with each role's certificate: allowed calls
// succeed, refused ones are PermissionDenied naming the method, the caller
// and its role.
func TestTLSRoles(t *testing.T) {
	tc := startTLS(t)
	for _, c := range []struct {
		caller  string
		role    authn.Role
		allowed []rpc
		refused []rpc
		needs   string
	}{
		{caller: "alice", role: authn.RoleAdmin, allowed: []rpc{applyRPC, getRPC, listRPC, statusRPC, subscribeRPC}},
		{caller: "bob", role: authn.RoleViewer, allowed: []rpc{getRPC, listRPC, statusRPC, subscribeRPC},
			refused: []rpc{applyRPC, deleteRPC, drainRPC}, needs: "admin"},
		{caller: "tokyo", role: authn.RoleAgent, allowed: []rpc{connectTokyoRPC},
			refused: []rpc{applyRPC, getRPC, subscribeRPC}},
		{caller: "ns1", role: authn.RoleDNS, allowed: []rpc{subscribeRPC},
			refused: []rpc{connectTokyoRPC, listRPC, applyRPC}},
	} {
		t.Run(string(c.role), func(t *testing.T) {
			conn := tc.dialAs(t, c.caller, c.role)
			for _, m := range c.allowed {
				ctx, cancel := callContext()
				if err := m.call(ctx, conn); err != nil {
					t.Errorf("%s as %s: %v", m.name, c.role, err)
				}
				cancel()
			}
			for _, m := range c.refused {
				ctx, cancel := callContext()
				err := m.call(ctx, conn)
				cancel()
				st := status.Convert(err)
				want := "/" + m.name + `: caller "` + c.caller + `" has role ` + string(c.role) + "; this method needs role " + c.needs
				if st.Code() != codes.PermissionDenied || !strings.Contains(st.Message(), want) {
					t.Errorf("%s as %s: %v %q; want PermissionDenied containing %q", m.name, c.role, st.Code(), st.Message(), want)
				}
			}
		})
	}
}

func TestTLSAgentConnectsOnlyAsThePopItsCertificateNames(t *testing.T) {
	tc := startTLS(t)
	conn := tc.dialAs(t, "tokyo", authn.RoleAgent)
	ctx, cancel := callContext()
	defer cancel()

	cfg, err := connectAs(ctx, conn, "tokyo")
	if err != nil {
		t.Fatalf("tokyo's agent connecting as tokyo: %v", err)
	}
	if cfg.GetPop() != "tokyo" || len(cfg.GetServices()) == 0 {
		t.Errorf("tokyo's config: pop %q with %d services; want tokyo's services", cfg.GetPop(), len(cfg.GetServices()))
	}

	_, err = connectAs(ctx, conn, "london")
	st := status.Convert(err)
	want := `the hello names PoP "london" but the client certificate is for "tokyo"`
	if st.Code() != codes.PermissionDenied || !strings.Contains(st.Message(), want) {
		t.Errorf("tokyo's agent connecting as london: %v %q; want PermissionDenied containing %q", st.Code(), st.Message(), want)
	}
}

// TestTLSHandshakeRefusesUnverifiedClients: without a certificate the CA
// signed there is no connection at all.
func TestTLSHandshakeRefusesUnverifiedClients(t *testing.T) {
	tc := startTLS(t)
	stranger := authntest.NewCA(t, "stranger")
	noCert := tc.ca.ClientTLS(t, "anon", authn.RoleAdmin)
	noCert.Certificates = nil
	otherCA := stranger.ClientTLS(t, "alice", authn.RoleAdmin)
	otherCA.RootCAs = noCert.RootCAs // trusts the controller, but is signed by a stranger
	for _, c := range []struct {
		desc  string
		creds credentials.TransportCredentials
	}{
		{"no client certificate", credentials.NewTLS(noCert)},
		{"a certificate of another CA", credentials.NewTLS(otherCA)},
		{"plain text", insecure.NewCredentials()},
	} {
		t.Run(c.desc, func(t *testing.T) {
			ctx, cancel := callContext()
			defer cancel()
			err := listRPC.call(ctx, dialWith(t, tc.Addr, c.creds))
			if status.Code(err) != codes.Unavailable {
				t.Fatalf("List: %v; want Unavailable", err)
			}
		})
	}
}

func TestTLSConfigErrorsNameTheFlags(t *testing.T) {
	ca := authntest.NewCA(t, "fleet")
	server := ca.ServerFiles(t)
	missing := filepath.Join(t.TempDir(), "controller.pem")
	for _, c := range []struct {
		desc  string
		tweak func(*controller.Config)
		err   string
	}{
		{"cert without key and CA", func(c *controller.Config) { c.TLSCert = server.Cert },
			"--tls-client-ca, --tls-cert and --tls-key: give all three or none (missing --tls-client-ca, --tls-key)"},
		{"missing certificate file", func(c *controller.Config) {
			c.TLSCert, c.TLSKey, c.TLSClientCA = missing, server.Key, server.CA
		}, `--tls-cert "` + missing + `": open ` + missing + ": no such file or directory"},
	} {
		t.Run(c.desc, func(t *testing.T) {
			cfg := controller.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir()}
			c.tweak(&cfg)
			_, err := controller.New(cfg)
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("New: %v; want an error containing %q", err, c.err)
			}
		})
	}
}
