package daemon_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/daemon"
	"github.com/anyctl/anyctl/dnsgslb/feed"
)

// waitLimit bounds every wait for the daemon.
const waitLimit = time.Minute

// config is a daemon on loopback whose controller is not there.
func config(t *testing.T) daemon.Config {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return daemon.Config{
		Server:        dnsgslb.Config{Listen: "127.0.0.1:0", Logger: log},
		Feed:          feed.Config{Controller: "unix:" + filepath.Join(t.TempDir(), "no-controller.sock"), Logger: log},
		MetricsListen: "127.0.0.1:0",
	}
}

// TestRunUntilCancelled: with no controller to reach the daemon still
// starts, serves its metrics, and returns nil once its context ends.
func TestRunUntilCancelled(t *testing.T) {
	d, err := daemon.New(config(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	select {
	case <-d.Ready():
	case err := <-done:
		t.Fatalf("Run returned before Ready: %v", err)
	case <-time.After(waitLimit):
		t.Fatalf("not ready within %s", waitLimit)
	}
	if udp, tcp := d.Server().Addr(); udp == nil || tcp == nil {
		t.Errorf("the server listens on UDP %v and TCP %v, want both", udp, tcp)
	}
	if d.Revision() != 0 {
		t.Errorf("revision %d without a snapshot, want 0", d.Revision())
	}
	body := scrape(t, "http://"+d.MetricsAddr().String()+"/metrics")
	for _, want := range []string{"anyctl_dns_snapshot_revision 0\n", "go_goroutines "} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v, want nil", err)
		}
	case <-time.After(waitLimit):
		t.Fatalf("Run did not return within %s of cancel", waitLimit)
	}
}

// TestRunFailsToStart: an address that cannot be used ends Run at once,
// without waiting for its context, and the error names the setting.
func TestRunFailsToStart(t *testing.T) {
	for _, c := range []struct {
		desc  string
		tweak func(*daemon.Config)
		err   string
	}{
		{"metrics address", func(c *daemon.Config) { c.MetricsListen = "7403" },
			`--metrics-listen "7403": want host:port or unix:PATH`},
		{"controller address", func(c *daemon.Config) { c.Feed.Controller = "controller.example" },
			`feed: Controller "controller.example": want host:port or unix:PATH`},
	} {
		t.Run(c.desc, func(t *testing.T) {
			cfg := config(t)
			c.tweak(&cfg)
			d, err := daemon.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = d.Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("Run: %v, want an error containing %q", err, c.err)
			}
		})
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: waitLimit}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}
