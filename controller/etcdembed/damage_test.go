package etcdembed

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// usedDir is a data directory a member has started on, written to and
// stopped, and its WAL files.
func usedDir(t *testing.T) (dir string, wals []string) {
	t.Helper()
	dir = dataDir(t)
	s, err := Start(testContext(t), Config{Dir: dir, Logger: quiet(), UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := cli.Put(testContext(t), "/k", strings.Repeat("v", i*100)); err != nil {
			t.Fatal(err)
		}
	}
	cli.Close()
	s.Close()
	wals, err = filepath.Glob(filepath.Join(dir, "member", "wal", "*.wal"))
	if err != nil || len(wals) == 0 {
		t.Fatalf("no WAL files in %s: %v", dir, err)
	}
	return dir, wals
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startWithin starts a member on dir with ctx and fails the test unless
// Start returns within limit.
func startWithin(t *testing.T, ctx context.Context, dir string, limit time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		s, err := Start(ctx, Config{Dir: dir, Logger: quiet(), UnsafeNoFsync: true, StartTimeout: limit})
		if err == nil {
			s.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(limit + 10*time.Second):
		t.Fatalf("Start on %s did not return within %s", dir, limit+10*time.Second)
		return nil
	}
}

// wantRefusal checks that err names the file and says what to do.
func wantRefusal(t *testing.T, err error, file string, todo string) {
	t.Helper()
	t.Logf("Start: %v", err)
	if err == nil {
		t.Fatal("Start succeeded on a damaged data dir")
	}
	if !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), todo) {
		t.Errorf("Start: %v, want an error naming %s and saying %q", err, file, todo)
	}
}

// TestZeroLengthWAL: an empty WAL file is refused with its name and the
// advice to restore the data dir, not a panic.
func TestZeroLengthWAL(t *testing.T) {
	dir, wals := usedDir(t)
	if err := os.Truncate(wals[len(wals)-1], 0); err != nil {
		t.Fatal(err)
	}
	wantRefusal(t, startWithin(t, testContext(t), dir, 20*time.Second), wals[len(wals)-1], "restore")
}

// TestGarbageDatabase: random bytes in place of the backend database are
// refused with its name and the advice to restore, not a bbolt panic.
func TestGarbageDatabase(t *testing.T) {
	dir, _ := usedDir(t)
	db := filepath.Join(dir, "member", "snap", "db")
	b := make([]byte, 64<<10)
	rand.Read(b)
	if err := os.WriteFile(db, b, 0o600); err != nil {
		t.Fatal(err)
	}
	wantRefusal(t, startWithin(t, testContext(t), dir, 20*time.Second), db, "restore")
}

// TestTruncatedWAL: a WAL cut short inside its records, so that it ends
// before the entries the database has applied, is refused at once with the
// file's name and the advice to restore, and left as it was; etcd itself
// would sit unready for minutes waiting for the lost entries.
func TestTruncatedWAL(t *testing.T) {
	dir, wals := usedDir(t)
	w := wals[len(wals)-1]
	b, err := os.ReadFile(w)
	if err != nil {
		t.Fatal(err)
	}
	end := len(b)
	for end > 0 && b[end-1] == 0 {
		end--
	}
	if err := os.Truncate(w, int64(end/2)); err != nil {
		t.Fatal(err)
	}
	t.Logf("WAL %s cut from %d bytes (%d written) to %d", w, len(b), end, end/2)
	started := time.Now()
	err = startWithin(t, testContext(t), dir, time.Minute)
	t.Logf("Start returned after %s", time.Since(started).Round(time.Millisecond))
	wantRefusal(t, err, w, "restore it from a backup")
	if fi, err := os.Stat(w); err != nil || fi.Size() != int64(end/2) {
		t.Errorf("the WAL file changed: %v, %v; want it left at %d bytes", fi.Size(), err, end/2)
	}
	awaitUnlocked(t, dir)
}

// TestStartHonoursCancel: a start whose context ends while etcd starts
// returns the context's error, and the start given up on stops in the
// background and releases the data dir.
func TestStartHonoursCancel(t *testing.T) {
	dir, _ := usedDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := startWithin(t, ctx, dir, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Start with its context cancelled: %v, want %v", err, context.Canceled)
	}
	awaitUnlocked(t, dir)
	if err := startWithin(t, testContext(t), dir, time.Minute); err != nil {
		t.Errorf("Start after a start given up on: %v", err)
	}
}

// awaitUnlocked waits until no start given up on holds dir's lock, so that
// the test's directory can be removed.
func awaitUnlocked(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		l, err := lockDir(dir)
		if err == nil {
			l.release()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("data dir still locked after 2 minutes: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestLowDiskSpace: a data dir on a file system with less room than two
// WAL segments is refused with the space needed, before etcd panics.
func TestLowDiskSpace(t *testing.T) {
	defer func(f func(string) (uint64, error)) { freeSpace = f }(freeSpace)
	freeSpace = func(string) (uint64, error) { return 100 << 20, nil }
	dir := dataDir(t)
	wantRefusal(t, startWithin(t, testContext(t), dir, 20*time.Second), dir, "free")
}
