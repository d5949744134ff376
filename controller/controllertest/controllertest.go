// Package controllertest runs a real controller, with its embedded etcd, on
// loopback for tests of the controller and of its clients.
package controllertest

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	"github.com/anyctl/anyctl/endpoint"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/validation"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Running is a controller serving on a free loopback port.
type Running struct {
	Ctrl    *controller.Controller
	Addr    string
	DataDir string
	Admin   v1.AdminServiceClient
	Conn    *grpc.ClientConn

	cancel context.CancelFunc
	done   chan error
}

// Start runs a controller with a fresh data dir until the test ends. It
// returns once the controller leads the fleet jobs: its election is
// written by then, so no write of its own start lands among a test's.
func Start(t testing.TB) *Running {
	t.Helper()
	r := StartAt(t, filepath.Join(t.TempDir(), "controller"), nil)
	r.WaitLeading(t)
	return r
}

// WaitLeading waits, for a minute at most, until the controller leads the
// fleet jobs.
func (r *Running) WaitLeading(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := r.Admin.Status(ctx, &v1.StatusRequest{})
		cancel()
		if err == nil && resp.GetController().GetLeader() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("controller not leading after a minute (status: %v)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// StartAt runs a controller on dataDir, so a test can stop it and start
// another on the same data. tweak, if not nil, adjusts the config.
func StartAt(t testing.TB, dataDir string, tweak func(*controller.Config)) *Running {
	t.Helper()
	cfg := controller.Config{
		Listen:            "127.0.0.1:0",
		MetricsListen:     "127.0.0.1:0",
		DataDir:           dataDir,
		AllowedPrefixes:   validation.DefaultAllowedPrefixes(),
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		EtcdUnsafeNoFsync: true,
	}
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := controller.New(cfg)
	if err != nil {
		t.Fatalf("controller config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{Ctrl: c, DataDir: dataDir, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- c.Run(ctx) }()
	select {
	case <-c.Ready():
	case err := <-r.done:
		cancel()
		t.Fatalf("controller stopped before it was ready: %v", err)
	case <-time.After(time.Minute):
		cancel()
		t.Fatal("controller not ready after a minute")
	}
	r.Addr = endpoint.String(c.Addr())
	conn, err := grpc.NewClient(r.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	r.Conn = conn
	r.Admin = v1.NewAdminServiceClient(conn)
	t.Cleanup(func() { r.Stop(t) })
	return r
}

// StopBound is how long Stop waits for the controller to stop. A stop
// waits for etcd at most a second (revoking the leader's lease) and for
// gRPC streams at most five, with or without etcd.
const StopBound = 20 * time.Second

// Stop stops the controller and waits for it; calling it again is a no-op.
func (r *Running) Stop(t testing.TB) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	r.Conn.Close()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("controller stopped with: %v", err)
		}
	case <-time.After(StopBound):
		t.Errorf("controller did not stop within %s", StopBound)
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// StartBehindProxy runs a controller whose etcd, a server of its own, is
// reached through a proxy that can slow or cut the path.
func StartBehindProxy(t *testing.T) (*Running, *etcdembedtest.CutProxy) {
	t.Helper()
	srv := etcdembedtest.StartServer(t, filepath.Join(t.TempDir(), "etcd"))
	proxy := etcdembedtest.StartCutProxy(t, srv.Endpoints()[0])
	r := StartAt(t, "", func(c *controller.Config) {
		c.EtcdEndpoints = []string{proxy.URL()}
	})
	r.WaitLeading(t)
	return r, proxy
}
