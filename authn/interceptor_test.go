package authn_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/authn/authntest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// whoAmI answers Get with the identity the interceptor put in the context,
// and leaves every other method unimplemented.
type whoAmI struct {
	v1.UnimplementedAdminServiceServer
}

func (whoAmI) Get(ctx context.Context, _ *v1.GetRequest) (*v1.GetResponse, error) {
	id, ok := authn.FromContext(ctx)
	if !ok {
		return nil, status.Error(codes.Internal, "no identity in the context")
	}
	return nil, status.Errorf(codes.AlreadyExists, "%s/%s", id.Name, id.Role)
}

// serveAuthorised serves whoAmI and health with mutual TLS on loopback.
func serveAuthorised(t *testing.T, ca *authntest.CA) string {
	t.Helper()
	cfg, err := authn.ServerConfig(ca.ServerFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(authn.ServerOptions(cfg, nil, nil)...)
	v1.RegisterAdminServiceServer(gs, whoAmI{})
	healthpb.RegisterHealthServer(gs, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	return lis.Addr().String()
}

func dialTLS(t *testing.T, addr string, files authn.Files) *grpc.ClientConn {
	t.Helper()
	cfg, err := authn.ClientConfig(files, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestInterceptorAuthorisesByRole(t *testing.T) {
	ca := authntest.NewCA(t, "test")
	addr := serveAuthorised(t, ca)
	noRole := ca.Issue(t, authntest.Subject{CommonName: "prober", OUs: []string{"monitoring"}})
	noRoleFiles := authn.Files{CA: ca.CertFile, Cert: noRole.Cert, Key: noRole.Key, Names: authn.ClientFlags}

	for _, c := range []struct {
		desc  string
		files authn.Files
		call  func(*grpc.ClientConn) error
		code  codes.Code
		msg   string
	}{
		{desc: "viewer reaches Get with its identity", files: ca.ClientFiles(t, "bob", authn.RoleViewer), call: get,
			code: codes.AlreadyExists, msg: "bob/viewer"},
		{desc: "viewer may not Apply", files: ca.ClientFiles(t, "bob", authn.RoleViewer), call: apply,
			code: codes.PermissionDenied, msg: `/anycast.v1.AdminService/Apply: caller "bob" has role viewer; this method needs role admin`},
		{desc: "agent may not Get", files: ca.ClientFiles(t, "tokyo", authn.RoleAgent), call: get,
			code: codes.PermissionDenied, msg: `caller "tokyo" has role agent; this method needs role admin or viewer`},
		{desc: "a certificate without a role is refused", files: noRoleFiles, call: get,
			code: codes.PermissionDenied, msg: `client certificate "prober" has no anyctl role`},
		{desc: "a certificate without a role may check health", files: noRoleFiles, call: checkHealth, code: codes.OK},
	} {
		t.Run(c.desc, func(t *testing.T) {
			err := c.call(dialTLS(t, addr, c.files))
			st := status.Convert(err)
			if st.Code() != c.code || !strings.Contains(st.Message(), c.msg) {
				t.Fatalf("got %v %q; want %v with %q", st.Code(), st.Message(), c.code, c.msg)
			}
		})
	}
}

func callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

func get(conn *grpc.ClientConn) error {
	ctx, cancel := callCtx()
	defer cancel()
	_, err := v1.NewAdminServiceClient(conn).Get(ctx, &v1.GetRequest{})
	return err
}

func apply(conn *grpc.ClientConn) error {
	ctx, cancel := callCtx()
	defer cancel()
	_, err := v1.NewAdminServiceClient(conn).Apply(ctx, &v1.ApplyRequest{})
	return err
}

func checkHealth(conn *grpc.ClientConn) error {
	ctx, cancel := callCtx()
	defer cancel()
	_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}
