package daemon_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/daemon"
	"github.com/anyctl/anyctl/dnsgslb/feed"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestFeedSendsNoSnapshotTheServerHolds: a DNS server restarted on its
// state directory subscribes to a controller restarted on its data,
// holding the snapshot the controller compiles again (another compile
// time, the same content). It is told that what it holds is current: it
// neither builds, persists nor logs a snapshot applied, its feed counts
// as connected, and the next change comes as a snapshot.
func TestFeedSendsNoSnapshotTheServerHolds(t *testing.T) {
	f := newRestartable(t)
	stateDir := filepath.Join(t.TempDir(), "dns")
	first, logs, stop := f.run(stateDir)
	logs.await(t, "gslb snapshot applied")
	held := first.Revision()
	stop()
	f.restartController()

	d, logs, _ := f.run(stateDir)
	if d.Revision() != held {
		t.Fatalf("the restarted server answers from revision %d, want the persisted %d", d.Revision(), held)
	}
	logs.await(t, "gslb feed connected")
	awaitMetric(t, d, "anyctl_dns_feed_connected 1\n")
	awaitMetric(t, d, fmt.Sprintf("anyctl_dns_snapshot_revision %d\n", held))

	// A change comes as a snapshot, and it is the only one applied: the
	// one held was not sent again.
	changed := f.changeOrigin()
	logs.await(t, fmt.Sprintf(" revision=%d zones=", changed))
	if n := strings.Count(logs.String(), "gslb snapshot applied"); n != 1 {
		t.Errorf("%d snapshots applied after the restarts, want 1 (the change's); log:\n%s", n, logs.String())
	}
}

// TestFeedSendsAnUnpersistedSnapshotAgain: a server whose snapshot could
// not be written to its state directory does not claim it on subscribe:
// the controller sends it whole, and writing it is tried again.
func TestFeedSendsAnUnpersistedSnapshotAgain(t *testing.T) {
	f := newRestartable(t)
	stateDir := filepath.Join(t.TempDir(), "dns")
	d, logs, _ := f.run(stateDir)
	logs.await(t, "gslb snapshot applied")
	if err := os.RemoveAll(stateDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stateDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	changed := f.changeOrigin()
	logs.await(t, "gslb snapshot applied but not persisted")
	awaitMetric(t, d, "anyctl_dns_snapshot_persist_failing 1\n")
	if err := os.Remove(stateDir); err != nil {
		t.Fatal(err)
	}
	f.restartController()
	awaitMetric(t, d, "anyctl_dns_snapshot_persist_failing 0\n")
	if d.Revision() != changed {
		t.Errorf("revision %d, want %d", d.Revision(), changed)
	}
}

// restartable is a controller holding the example deployment on a Unix
// socket, so that it restarts on its data at the same address.
type restartable struct {
	t    *testing.T
	dir  string
	sock string
	ctl  *controllertest.Running
	objs []*v1.Object
}

func newRestartable(t *testing.T) *restartable {
	t.Helper()
	dir := t.TempDir()
	f := &restartable{t: t, dir: dir, sock: "unix:" + filepath.Join(dir, "ctl.sock")}
	f.start()
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	f.objs = objs
	f.apply(objs...)
	return f
}

func (f *restartable) start() {
	f.t.Helper()
	f.ctl = controllertest.StartAt(f.t, filepath.Join(f.dir, "controller"), func(c *controller.Config) { c.Listen = f.sock })
}

func (f *restartable) restartController() {
	f.t.Helper()
	f.ctl.Stop(f.t)
	f.start()
}

// apply applies objs and returns the revision written.
func (f *restartable) apply(objs ...*v1.Object) int64 {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	resp, err := f.ctl.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs})
	if err != nil {
		f.t.Fatalf("apply: %v", err)
	}
	return resp.GetRevision()
}

// changeOrigin raises an example origin's weight and returns the
// revision written.
func (f *restartable) changeOrigin() int64 {
	f.t.Helper()
	for _, o := range f.objs {
		if org := o.GetOrigin(); org != nil {
			org.Spec.Weight++
			return f.apply(o)
		}
	}
	f.t.Fatal("no origin in the example deployment")
	return 0
}

// run runs a DNS server on stateDir, streaming from the controller,
// until the test ends or stop is called.
func (f *restartable) run(stateDir string) (d *daemon.Daemon, logs *logLines, stop func()) {
	t := f.t
	t.Helper()
	logs = &logLines{changed: make(chan struct{}, 1)}
	log := slog.New(slog.NewTextHandler(logs, nil))
	d, err := daemon.New(daemon.Config{
		Server:        dnsgslb.Config{Listen: "127.0.0.1:0", StateDir: stateDir, Logger: log},
		Feed:          feed.Config{Controller: f.sock, ServerName: "ns1", Logger: log},
		MetricsListen: "127.0.0.1:0",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(stop)
	<-d.Ready()
	return d, logs, stop
}
