package cli

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc"
)

// droppingAdmin is a real gRPC Admin API that, like a controller killed
// mid-call, drops every connection once a write's request has arrived and
// never answers it.
type droppingAdmin struct {
	v1.UnimplementedAdminServiceServer
	lis *recordingListener
}

func (d *droppingAdmin) drop(ctx context.Context) error {
	d.lis.closeAll()
	<-ctx.Done()
	return ctx.Err()
}

func (d *droppingAdmin) Apply(ctx context.Context, _ *v1.ApplyRequest) (*v1.ApplyResponse, error) {
	return nil, d.drop(ctx)
}

func (d *droppingAdmin) Delete(ctx context.Context, _ *v1.DeleteRequest) (*v1.DeleteResponse, error) {
	return nil, d.drop(ctx)
}

func (d *droppingAdmin) Drain(ctx context.Context, _ *v1.DrainRequest) (*v1.DrainResponse, error) {
	return nil, d.drop(ctx)
}

// recordingListener remembers the connections it accepted, to close them.
type recordingListener struct {
	net.Listener
	mu    sync.Mutex // guards conns
	conns []net.Conn
}

func (l *recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *recordingListener) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
}

// TestWriteWithLostAnswer runs writes against a server that drops the
// connection after the request arrived: anyctl must say the outcome is
// unknown, with ExitUnknownOutcome, not that the write failed. A write that
// never left (nothing listening) and a dry run still fail.
func TestWriteWithLostAnswer(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rl := &recordingListener{Listener: lis}
	srv := grpc.NewServer()
	v1.RegisterAdminServiceServer(srv, &droppingAdmin{lis: rl})
	go srv.Serve(rl)
	t.Cleanup(srv.Stop)
	addr := lis.Addr().String()

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	popFile := filepath.Join(t.TempDir(), "pop.yaml")
	if err := os.WriteFile(popFile, []byte("apiVersion: anycast.anyctl.io/v1\nkind: Pop\nmetadata: {name: tokyo}\nspec: {localAsn: 64512}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const unknown = "unknown outcome: the controller may have applied it; check with anyctl get"
	for _, c := range []struct {
		desc       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"apply", []string{"--server", addr, "apply", "-f", popFile}, ExitUnknownOutcome, unknown},
		{"delete", []string{"--server", addr, "delete", "pop", "tokyo"}, ExitUnknownOutcome, unknown},
		{"drain", []string{"--server", addr, "drain", "pop", "tokyo"}, ExitUnknownOutcome, unknown},
		{"dry run writes nothing", []string{"--server", addr, "apply", "--dry-run", "-f", popFile}, ExitFailure, "cannot reach the controller"},
		{"never sent", []string{"--server", closedAddr, "apply", "-f", popFile}, ExitFailure, "cannot reach the controller"},
	} {
		t.Run(c.desc, func(t *testing.T) {
			code, _, stderr := runAnyctl(c.args, "")
			if code != c.wantCode || !strings.Contains(stderr, c.wantStderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, c.wantCode, c.wantStderr)
			}
			if c.wantCode != ExitUnknownOutcome && strings.Contains(stderr, "unknown outcome") {
				t.Errorf("stderr %q claims an unknown outcome", stderr)
			}
		})
	}
}
