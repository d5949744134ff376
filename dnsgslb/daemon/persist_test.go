package daemon_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/daemon"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestUnpersistedSnapshotShowsInMetrics: a snapshot served but not
// written to the state directory (here: the directory is gone, a file in
// its place) shows in the metrics, since a restart without a controller
// would answer from an older snapshot; the next snapshot written clears
// it.
func TestUnpersistedSnapshotShowsInMetrics(t *testing.T) {
	stateDir := filepath.Join(t.TempDir(), "dns")
	ctl, objs, d, logs := runWithExamples(t, dnsgslb.Config{StateDir: stateDir})
	apply := func(objs ...*v1.Object) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		if _, err := ctl.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs}); err != nil {
			t.Fatalf("apply: %v", err)
		}
	}
	logs.await(t, "gslb snapshot applied")
	metric := func(want string) {
		t.Helper()
		body := scrape(t, "http://"+d.MetricsAddr().String()+"/metrics")
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, grepLines(body, "anyctl_dns_"))
		}
	}
	metric("anyctl_dns_snapshot_persist_failing 0\n")

	if err := os.RemoveAll(stateDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stateDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	origin := func() *v1.Object {
		for _, o := range objs {
			if org := o.GetOrigin(); org != nil {
				org.Spec.Weight++
				return o
			}
		}
		t.Fatal("no origin in the example deployment")
		return nil
	}
	apply(origin())
	logs.await(t, "gslb snapshot applied but not persisted")
	metric("anyctl_dns_snapshot_persist_failing 1\n")

	if err := os.Remove(stateDir); err != nil {
		t.Fatal(err)
	}
	apply(origin())
	awaitMetric(t, d, "anyctl_dns_snapshot_persist_failing 0\n")
}

// awaitMetric polls the daemon's metrics until they hold want.
func awaitMetric(t *testing.T, d *daemon.Daemon, want string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		body := scrape(t, "http://"+d.MetricsAddr().String()+"/metrics")
		if strings.Contains(body, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics lack %q after %s:\n%s", want, waitLimit, grepLines(body, "anyctl_dns_"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
