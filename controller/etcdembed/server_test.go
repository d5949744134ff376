package etcdembed

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// dataDir returns a directory for etcd that does not exist yet, so that Start
// creates it private.
func dataDir(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "etcd")
}

// occupy holds a loopback port until the test ends.
func occupy(t *testing.T, port int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("occupy port %d: %v", port, err)
	}
	t.Cleanup(func() { l.Close() })
}

func TestStartRejectsEmptyDir(t *testing.T) {
	if _, err := Start(testContext(t), Config{}); err == nil {
		t.Fatal("Start with an empty Dir succeeded")
	}
}

// TestStartMemberReportsBusyPort checks the error Start retries on: a port
// taken between choosing and binding must be recognisable.
func TestStartMemberReportsBusyPort(t *testing.T) {
	p, err := choosePorts(ports{})
	if err != nil {
		t.Fatal(err)
	}
	occupy(t, p.Client)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := startMember(testContext(t), Config{Dir: dataDir(t), StartTimeout: time.Minute}, p, newZapLogger(logger, new(atomic.Bool)), nil)
	if err == nil {
		e.Close()
		t.Fatalf("etcd started on busy client port %d", p.Client)
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("start on a busy port: %v, want an error wrapping EADDRINUSE", err)
	}
}
