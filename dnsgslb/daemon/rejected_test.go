package daemon_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/daemon"
	"github.com/anyctl/anyctl/dnsgslb/feed"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestRejectedSnapshotShowsInMetrics: a server that refuses the snapshot
// its controller sends (here: its GeoIP database cannot be read) stays
// connected to the feed and answers from what it had; its metrics say the
// snapshot was rejected, so that the operator is told it is going stale.
func TestRejectedSnapshotShowsInMetrics(t *testing.T) {
	geoip := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.Write(geoip, geotest.Networks); err != nil {
		t.Fatal(err)
	}
	damageTree(t, geoip)
	_, _, d, logs := runWithExamples(t, dnsgslb.Config{GeoIPPath: geoip})
	logs.await(t, "gslb snapshot rejected")
	body := scrape(t, "http://"+d.MetricsAddr().String()+"/metrics")
	for _, want := range []string{"anyctl_dns_feed_connected 1\n", "anyctl_dns_snapshot_rejected 1\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q after a rejected snapshot:\n%s", want, grepLines(body, "anyctl_dns_"))
		}
	}
}

// runWithExamples starts a controller holding the example deployment and
// runs a daemon with the server configuration cfg (its listen address and
// logger set here) streaming from it, with metrics; it returns the
// controller, the objects applied, the daemon and its log.
func runWithExamples(t *testing.T, cfg dnsgslb.Config) (*controllertest.Running, []*v1.Object, *daemon.Daemon, *logLines) {
	t.Helper()
	ctl := controllertest.Start(t)
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if _, err := ctl.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	logs := &logLines{changed: make(chan struct{}, 1)}
	log := slog.New(slog.NewTextHandler(logs, nil))
	cfg.Listen, cfg.Logger = "127.0.0.1:0", log
	d, err := daemon.New(daemon.Config{
		Server:        cfg,
		Feed:          feed.Config{Controller: ctl.Addr, Logger: log},
		MetricsListen: "127.0.0.1:0",
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return ctl, objs, d, logs
}

// damageTree overwrites the start of the GeoIP database's search tree,
// keeping its metadata: the file is named as before but its networks
// cannot be read.
func damageTree(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xff}, 64), 0); err != nil {
		t.Fatal(err)
	}
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// logLines keeps what a text logger wrote, for tests that wait for a
// message.
type logLines struct {
	mu      sync.Mutex // guards buf
	buf     bytes.Buffer
	changed chan struct{} // signalled after each write
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.buf.Write(p)
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// await waits until a message containing substr has been logged.
func (l *logLines) await(t *testing.T, substr string) {
	t.Helper()
	deadline := time.After(waitLimit)
	for !strings.Contains(l.String(), substr) {
		select {
		case <-l.changed:
		case <-deadline:
			t.Fatalf("nothing logged containing %q within %s; log:\n%s", substr, waitLimit, l.String())
		}
	}
}
