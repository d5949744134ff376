package daemon_test

import (
	"context"
	"fmt"
	"log/slog"
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
	dir := t.TempDir()
	sock := "unix:" + filepath.Join(dir, "ctl.sock")
	startController := func() *controllertest.Running {
		return controllertest.StartAt(t, filepath.Join(dir, "controller"), func(c *controller.Config) { c.Listen = sock })
	}
	ctl := startController()
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	apply := func(objs ...*v1.Object) int64 {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		resp, err := ctl.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs})
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		return resp.GetRevision()
	}
	apply(objs...)
	stateDir := filepath.Join(dir, "dns")
	run := func() (*daemon.Daemon, *logLines, func()) {
		t.Helper()
		logs := &logLines{changed: make(chan struct{}, 1)}
		log := slog.New(slog.NewTextHandler(logs, nil))
		d, err := daemon.New(daemon.Config{
			Server:        dnsgslb.Config{Listen: "127.0.0.1:0", StateDir: stateDir, Logger: log},
			Feed:          feed.Config{Controller: sock, ServerName: "ns1", Logger: log},
			MetricsListen: "127.0.0.1:0",
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		stopped := false
		stop := func() {
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

	first, logs, stop := run()
	logs.await(t, "gslb snapshot applied")
	held := first.Revision()
	stop()
	ctl.Stop(t)
	ctl = startController()

	d, logs, _ := run()
	if d.Revision() != held {
		t.Fatalf("the restarted server answers from revision %d, want the persisted %d", d.Revision(), held)
	}
	logs.await(t, "gslb feed connected")
	awaitMetric(t, d, "anyctl_dns_feed_connected 1\n")
	awaitMetric(t, d, fmt.Sprintf("anyctl_dns_snapshot_revision %d\n", held))

	// A change comes as a snapshot, and it is the only one applied: the
	// one held was not sent again.
	var changed int64
	for _, o := range objs {
		if org := o.GetOrigin(); org != nil {
			org.Spec.Weight++
			changed = apply(o)
			break
		}
	}
	logs.await(t, fmt.Sprintf(" revision=%d zones=", changed))
	if n := strings.Count(logs.String(), "gslb snapshot applied"); n != 1 {
		t.Errorf("%d snapshots applied after the restarts, want 1 (the change's); log:\n%s", n, logs.String())
	}
}
