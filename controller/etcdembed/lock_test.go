package etcdembed

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"
)

// TestSecondStartOnOneDirIsRefused: a second member on a data directory in
// use is refused at once, naming the directory and the process holding it,
// instead of blocking in etcd's file locks; once the first has stopped, the
// directory can be used again.
func TestSecondStartOnOneDirIsRefused(t *testing.T) {
	dir := dataDir(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	first, err := Start(testContext(t), Config{Dir: dir, Logger: quiet, UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()

	type result struct {
		s   *Server
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := Start(testContext(t), Config{Dir: dir, Logger: quiet, UnsafeNoFsync: true, StartTimeout: 5 * time.Second})
		done <- result{s, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a second Start on the same data directory did not return within 10s")
	}
	if r.err == nil {
		r.s.Close()
		t.Fatal("a second Start on the same data directory succeeded")
	}
	t.Logf("second Start: %v", r.err)
	want := fmt.Sprintf("data dir %q is in use by process %d", dir, os.Getpid())
	if !strings.Contains(r.err.Error(), want) {
		t.Errorf("second Start: %v, want it to say %s", r.err, want)
	}

	first.Close()
	again, err := Start(testContext(t), Config{Dir: dir, Logger: quiet, UnsafeNoFsync: true})
	if err != nil {
		t.Fatalf("Start after the first member stopped: %v", err)
	}
	again.Close()
}
