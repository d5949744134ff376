package controller_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestFleetMetrics scrapes the fleet series the dashboard and alert rules
// use: origin verdicts, announcing PoPs against the minimum, drain steps
// and silent PoPs.
func TestFleetMetrics(t *testing.T) {
	r := controllertest.Start(t)
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := r.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatal(err)
	}
	// No agent reports here: every PoP is silent, nothing announces.
	want := []string{
		`anyctl_controller_origin_up{origin="eu-west"} 1`,
		`anyctl_controller_service_announcing_pops{service="edge-dns"} 0`,
		`anyctl_controller_service_min_announcing_pops{service="edge-dns"} 2`,
		`anyctl_controller_pop_reporting{pop="tokyo"} 0`,
		`anyctl_controller_pop_drain_step{pop="london"} 0`,
	}
	body := scrape(t, "http://"+r.Ctrl.MetricsAddr().String()+"/metrics")
	for _, w := range want {
		if !strings.Contains(body, w+"\n") {
			t.Errorf("metrics lack %q", w)
		}
	}
	if _, err := r.Admin.Drain(ctx, &v1.DrainRequest{Pop: "london", Force: true}); err != nil {
		t.Fatal(err)
	}
	// The drain is recorded before Drain answers; its step shows at once.
	body = scrape(t, "http://"+r.Ctrl.MetricsAddr().String()+"/metrics")
	if strings.Contains(body, `anyctl_controller_pop_drain_step{pop="london"} 0`+"\n") {
		t.Errorf("after a forced drain london's drain step is still 0")
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
