package controller_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/etcdembed"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestEtcdGoneFailsFast stops the etcd under a running controller: reads
// and writes must fail within seconds with Unavailable saying etcd has lost
// quorum, not wait out the caller's deadline.
func TestEtcdGoneFailsFast(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etcd")
	srv := etcdembedtest.StartServer(t, dir)
	r := controllertest.StartAt(t, "", func(c *controller.Config) { c.EtcdEndpoints = srv.Endpoints() })
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		desc string
		call func(context.Context) error
	}{
		{"get", func(ctx context.Context) error {
			_, err := r.Admin.Get(ctx, &v1.GetRequest{Kind: v1.Kind_KIND_POP, Name: "tokyo"})
			return err
		}},
		{"list", func(ctx context.Context) error {
			_, err := r.Admin.List(ctx, &v1.ListRequest{Kind: v1.Kind_KIND_POP})
			return err
		}},
		{"delete", func(ctx context.Context) error {
			_, err := r.Admin.Delete(ctx, &v1.DeleteRequest{Kind: v1.Kind_KIND_POP, Name: "tokyo"})
			return err
		}},
	} {
		t.Run(c.desc, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			start := time.Now()
			err := c.call(ctx)
			took := time.Since(start)
			if status.Code(err) != codes.Unavailable || !strings.Contains(status.Convert(err).Message(), "etcd has lost quorum") {
				t.Errorf("after %s: %v; want Unavailable saying etcd has lost quorum", took.Round(time.Millisecond), err)
			}
			if took > 10*time.Second {
				t.Errorf("took %s; want it to fail within the %s read timeout and a little", took.Round(time.Millisecond), 5*time.Second)
			}
		})
	}
}

// TestStopWithoutEtcd stops a controller whose etcd has been gone long
// enough for its leadership to lapse and a new campaign to begin: the stop
// must not wait for etcd (controllertest's Stop fails the test when the
// controller has not stopped within its bound).
func TestStopWithoutEtcd(t *testing.T) {
	srv := etcdembedtest.StartServer(t, filepath.Join(t.TempDir(), "etcd"))
	logs := &syncBuffer{}
	r := controllertest.StartAt(t, "", func(c *controller.Config) {
		c.EtcdEndpoints = srv.Endpoints()
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	awaitLog(t, logs, "leading the fleet jobs")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	// The term's session expires without etcd; the replica then
	// campaigns again, waiting for an etcd that is not there.
	awaitLog(t, logs, "campaigning again")
	// Not for correctness: lets the new campaign get past its backoff,
	// to the call to etcd a stop must not wait for.
	time.Sleep(time.Second)
	start := time.Now()
	r.Stop(t)
	t.Logf("stopped %s after the stop was asked", time.Since(start).Round(time.Millisecond))
}

// awaitLog waits until the log holds msg.
func awaitLog(t *testing.T, logs *syncBuffer, msg string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), msg) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log within 30s; log:\n%s", msg, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestStopDuringStart stops a controller while its embedded etcd starts:
// Run returns nil, as for any stop, not the start's "context canceled".
func TestStopDuringStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "controller")
	c, err := controller.New(controller.Config{
		Listen: "127.0.0.1:0", DataDir: dir, EtcdUnsafeNoFsync: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Run(ctx); err != nil {
		t.Errorf("Run stopped during start-up: %v; want nil", err)
	}
	// The start given up on stops in the background, holding the data
	// dir until it has; wait for it before the test's dir is removed.
	deadline := time.Now().Add(time.Minute)
	for {
		s, err := etcdembed.Start(context.Background(), etcdembed.Config{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), UnsafeNoFsync: true})
		if err == nil {
			s.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("data dir still held a minute after the stop: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
