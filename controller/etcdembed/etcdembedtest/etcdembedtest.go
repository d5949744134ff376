// Package etcdembedtest runs a real embedded etcd member on loopback for one
// test, in a temporary directory, and stops it when the test ends. It is
// apart from etcdembed so that the anyctl binary does not link "testing".
package etcdembedtest

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller/etcdembed"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Start starts a member in a fresh temporary directory for one test and
// returns its client. The member stops when the test ends. It skips fsync,
// so a test's data does not survive a crash of the machine.
func Start(t testing.TB) *clientv3.Client {
	t.Helper()
	return Client(t, StartServer(t, filepath.Join(t.TempDir(), "etcd")))
}

// Client returns a new client of s, closed when the test ends.
func Client(t testing.TB, s *etcdembed.Server) *clientv3.Client {
	t.Helper()
	cli, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// StartServer starts a member on dir for one test, for tests that stop and
// restart it; the member stops when the test ends if it is still running.
// etcd's warnings go to the test log.
func StartServer(t testing.TB, dir string) *etcdembed.Server {
	t.Helper()
	w := &testLogWriter{t: t}
	// Cleanups run last-registered first: the member stops before the
	// writer closes, so nothing logs to a finished test.
	t.Cleanup(w.close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := etcdembed.Start(ctx, etcdembed.Config{
		Dir:           dir,
		Logger:        slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn})),
		UnsafeNoFsync: true,
	})
	if err != nil {
		t.Fatalf("start embedded etcd in %q: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("stop embedded etcd: %v", err)
		}
	})
	return s
}

// testLogWriter writes log lines to a test's log until the test ends.
type testLogWriter struct {
	t      testing.TB
	mu     sync.Mutex // guards closed
	closed bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(string(bytes.TrimRight(p, "\n")))
	}
	return len(p), nil
}

func (w *testLogWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}
