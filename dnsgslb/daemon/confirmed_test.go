package daemon_test

import (
	"context"
	"log/slog"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/daemon"
	"github.com/anyctl/anyctl/dnsgslb/feed"
)

// TestFeedConfirmedAgeMetric: anyctl_dns_feed_confirmed_age_seconds stays
// under the replica's interval while it confirms, and grows once it has
// stopped (here: the controller is gone).
func TestFeedConfirmedAgeMetric(t *testing.T) {
	ctl := controllertest.StartAt(t, filepath.Join(t.TempDir(), "controller"), func(c *controller.Config) {
		c.FeedConfirmEvery = 200 * time.Millisecond
	})
	logs := &logLines{changed: make(chan struct{}, 1)}
	log := slog.New(slog.NewTextHandler(logs, nil))
	d, err := daemon.New(daemon.Config{
		Server:        dnsgslb.Config{Listen: "127.0.0.1:0", Logger: log},
		Feed:          feed.Config{Controller: ctl.Addr, Logger: log},
		MetricsListen: "127.0.0.1:0",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	<-d.Ready()
	age := func() float64 {
		t.Helper()
		body := scrape(t, "http://"+d.MetricsAddr().String()+"/metrics")
		const name = "anyctl_dns_feed_confirmed_age_seconds "
		for _, l := range strings.Split(body, "\n") {
			if v, ok := strings.CutPrefix(l, name); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatalf("%s%q: %v", name, v, err)
				}
				return f
			}
		}
		t.Fatalf("no %s in the metrics:\n%s", name, grepLines(body, "anyctl_dns_"))
		return 0
	}
	awaitAge := func(what string, ok func(float64) bool) float64 {
		t.Helper()
		deadline := time.Now().Add(waitLimit)
		for {
			a := age()
			if ok(a) {
				return a
			}
			if time.Now().After(deadline) {
				t.Fatalf("anyctl_dns_feed_confirmed_age_seconds %v: not %s within %s; log:\n%s", a, what, waitLimit, logs.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	awaitAge("under a second", func(a float64) bool { return !math.IsNaN(a) && a < 1 })
	for range 10 {
		if a := age(); math.IsNaN(a) || a >= 1 {
			t.Fatalf("anyctl_dns_feed_confirmed_age_seconds %v from a replica confirming every 200ms", a)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctl.Stop(t)
	a := awaitAge("over 2s", func(a float64) bool { return a > 2 })
	t.Logf("age %.2fs after the controller stopped", a)
}
