package daemon_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/authn/authntest"
	"github.com/anyctl/anyctl/dnsgslb/daemon"
)

// TestFeedCertificateMetrics: a DNS server with TLS exports the expiry of
// its feed certificate, and after the files are renewed in place, the
// renewed one's, without a restart.
func TestFeedCertificateMetrics(t *testing.T) {
	ca := authntest.NewCA(t, "fleet")
	files := ca.ClientFiles(t, "ns1", authn.RoleDNS)
	r, err := authn.NewReloader(files, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	cfg := config(t)
	cfg.Feed.TLS = r
	d, err := daemon.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case <-d.Ready():
	case err := <-done:
		t.Fatalf("Run returned before Ready: %v", err)
	case <-time.After(waitLimit):
		t.Fatalf("not ready within %s", waitLimit)
	}
	expiry := func() string {
		return fmt.Sprintf("anyctl_tls_certificate_expiry_timestamp_seconds{file=%q} %v\n", files.Cert, float64(r.Leaf().NotAfter.Unix()))
	}
	body := scrape(t, "http://"+d.MetricsAddr().String()+"/metrics")
	for _, want := range []string{expiry(), fmt.Sprintf("anyctl_tls_reload_failing{file=%q} 0\n", files.Cert)} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	renewed := ca.Issue(t, authntest.Subject{CommonName: "ns1", OUs: []string{"dns"}, NotAfter: time.Now().Add(48 * time.Hour)})
	authntest.Rewrite(t, authntest.Pair{Cert: files.Cert, Key: files.Key}, renewed)
	deadline := time.Now().Add(waitLimit)
	for {
		body = scrape(t, "http://"+d.MetricsAddr().String()+"/metrics")
		if r.Leaf().NotAfter.After(time.Now().Add(36*time.Hour)) && strings.Contains(body, expiry()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the renewed certificate's expiry is not exported:\n%s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
