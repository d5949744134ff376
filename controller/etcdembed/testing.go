package etcdembed

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// StartForTest starts a member in a fresh temporary directory for one test
// and returns its client. The member stops when the test ends. It skips
// fsync, so a test's data does not survive a crash of the machine.
func StartForTest(t testing.TB) *clientv3.Client {
	t.Helper()
	return ClientForTest(t, StartServerForTest(t, filepath.Join(t.TempDir(), "etcd")))
}

// ClientForTest returns a new client of s, closed when the test ends.
func ClientForTest(t testing.TB, s *Server) *clientv3.Client {
	t.Helper()
	cli, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// StartServerForTest starts a member on dir for one test, for tests that stop
// and restart it; the member stops when the test ends if it is still running.
// etcd's warnings go to the test log.
func StartServerForTest(t testing.TB, dir string) *Server {
	t.Helper()
	w := &testLogWriter{t: t}
	// Cleanups run last-registered first: the member stops before the
	// writer closes, so nothing logs to a finished test.
	t.Cleanup(w.close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, Config{
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
