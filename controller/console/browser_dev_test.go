package console_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anyctl/anyctl/devenv"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// runDev runs the whole anyctl dev environment (controller with its
// console, DNS server, router, an agent per example PoP) until the test
// ends.
func runDev(t *testing.T) devenv.Info {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	infos := make(chan devenv.Info, 1)
	done := make(chan error, 1)
	go func() {
		done <- devenv.Run(ctx, devenv.Config{
			DataDir: t.TempDir(), Listen: "127.0.0.1:0", MetricsListen: "127.0.0.1:0", DNSListen: "127.0.0.1:0", ConsoleListen: "127.0.0.1:0",
		}, func(i devenv.Info) { infos <- i })
	}()
	var info devenv.Info
	select {
	case info = <-infos:
	case err := <-done:
		cancel()
		t.Fatalf("dev environment stopped before it was ready: %v", err)
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatal("dev environment not ready within 2 minutes")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("dev environment stopped with: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Error("dev environment did not stop within 60s")
		}
	})
	if info.Console == "" {
		t.Fatal("dev environment reports no console URL")
	}
	return info
}

// pageWeight sums the bytes a page load transfers, by the browser's own
// network events, until the views stream opens (it never finishes).
type pageWeight struct {
	mu    sync.Mutex // guards bytes and files
	bytes int64
	files []string
	urls  map[network.RequestID]string
}

func (w *pageWeight) listen(ctx context.Context) {
	w.urls = map[network.RequestID]string{}
	_ = chromedp.Listen(ctx, func(ev any) {
		w.mu.Lock()
		defer w.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventResponseReceived:
			w.urls[e.RequestID] = e.Response.URL
		case *network.EventLoadingFinished:
			w.bytes += int64(e.EncodedDataLength)
			w.files = append(w.files, fmt.Sprintf("%s=%d", w.urls[e.RequestID], int64(e.EncodedDataLength)))
		}
	})
}

func TestBrowserDevFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole dev environment and a browser")
	}
	ctx := browser(t)
	info := runDev(t)
	t.Logf("console at %s", info.Console)
	var weight pageWeight
	weight.listen(ctx)

	// The map shows the four example PoPs at their places, serving.
	places := map[string][2]float64{"tokyo": {35.6762, 139.6503}, "london": {51.5074, -0.1278}, "newyork": {40.7128, -74.0060}, "saopaulo": {-23.5505, -46.6333}}
	run(t, ctx, time.Minute, "open the fleet map", chromedp.Navigate(info.Console+"#/map"),
		chromedp.WaitReady(chromedp.CSS(`#pop-tokyo[data-step="serving"]`)),
		chromedp.WaitReady(chromedp.CSS(`#pop-london[data-step="serving"]`)),
		chromedp.WaitReady(chromedp.CSS(`#pop-newyork[data-step="serving"]`)),
		chromedp.WaitReady(chromedp.CSS(`#pop-saopaulo[data-step="serving"]`)))
	for pop, ll := range places {
		cx := get(t, ctx, "read "+pop, chromedp.AttributeValue(chromedp.CSS("#pop-"+pop), "cx")).Value
		cy := get(t, ctx, "read "+pop, chromedp.AttributeValue(chromedp.CSS("#pop-"+pop), "cy")).Value
		x, _ := strconv.ParseFloat(cx, 64)
		y, _ := strconv.ParseFloat(cy, 64)
		// Equirectangular: x = lon + 180, y = 90 - lat.
		if math.Abs(x-(ll[1]+180)) > 0.01 || math.Abs(y-(90-ll[0])) > 0.01 {
			t.Errorf("PoP %s drawn at (%s, %s), want (%.2f, %.2f) for %.4f, %.4f", pop, cx, cy, ll[1]+180, 90-ll[0], ll[0], ll[1])
		}
	}
	weight.mu.Lock()
	t.Logf("page weight on first load: %d bytes transferred (%s)", weight.bytes, strings.Join(weight.files, " "))
	weight.mu.Unlock()
	screenshot(t, ctx, "fleet-map")

	// A failing service turns the PoPs failing on the open page.
	start := time.Now()
	info.FailDNS(true)
	run(t, ctx, time.Minute, "wait for tokyo failing", chromedp.WaitReady(chromedp.CSS(`#pop-tokyo[data-step="failing"]`)))
	t.Logf("tokyo shown failing %v after its edge-dns stand-in started failing (the check's interval and fall count, then the report; shared machine)", time.Since(start).Round(time.Millisecond))
	// Where that time went: the agent's report, the view built from it,
	// the page receiving it.
	lat := get(t, ctx, "read the view's times", chromedp.Evaluate[map[string]string](
		`({reported: S.view.pops.find(p => p.name === "tokyo").reportedAt, generated: S.view.generated, received: new Date(S.receivedAt).toISOString()})`))
	rep, _ := time.Parse(time.RFC3339Nano, lat["reported"])
	gen, _ := time.Parse(time.RFC3339Nano, lat["generated"])
	recv, _ := time.Parse(time.RFC3339Nano, lat["received"])
	t.Logf("latest view: agent report → view built %v, view built → page received %v", gen.Sub(rep).Round(time.Millisecond), recv.Sub(gen).Round(time.Millisecond))
	screenshot(t, ctx, "fleet-map-failing")
	run(t, ctx, 10*time.Second, "events page", chromedp.Navigate(info.Console+"#/events"),
		chromedp.WaitReady(chromedp.CSS(`#events li[data-kind="health"]`)))
	screenshot(t, ctx, "events")
	info.FailDNS(false)
	run(t, ctx, 2*time.Minute, "wait for every PoP serving again", chromedp.Navigate(info.Console+"#/map"),
		chromedp.WaitReady(chromedp.CSS(`#pop-tokyo[data-step="serving"]`)),
		chromedp.WaitReady(chromedp.CSS(`#pop-london[data-step="serving"]`)),
		chromedp.WaitReady(chromedp.CSS(`#pop-newyork[data-step="serving"]`)),
		chromedp.WaitReady(chromedp.CSS(`#pop-saopaulo[data-step="serving"]`)))

	// The GSLB map sends Europe to eu-west, and explain answers.
	run(t, ctx, 30*time.Second, "GSLB page", chromedp.Navigate(info.Console+"#/gslb"),
		chromedp.WaitReady(chromedp.CSS(`#gslb-map path[data-region="EU"][data-origin]`)))
	eu := get(t, ctx, "read Europe", chromedp.AttributeValue(chromedp.CSS(`#gslb-map path[data-region="EU"]`), "data-origin")).Value
	if eu != "eu-west" {
		t.Errorf("GSLB map: Europe gets %q, want eu-west", eu)
	}
	run(t, ctx, 30*time.Second, "explain", chromedp.Click(chromedp.CSS(`#explain-form button`)),
		chromedp.WaitReady(chromedp.CSS(`#explain-rcode`)))
	rcode := get(t, ctx, "read the rcode", chromedp.Text(chromedp.CSS(`#explain-rcode`)))
	if rcode != "NOERROR" {
		t.Errorf("explain: rcode %q, want NOERROR", rcode)
	}
	screenshot(t, ctx, "gslb")

	run(t, ctx, 30*time.Second, "origins page", chromedp.Navigate(info.Console+"#/origins"),
		chromedp.WaitReady(chromedp.CSS(`#matrix td[data-pop="tokyo"][data-origin="ap-northeast"]`)))
	screenshot(t, ctx, "origins")

	// An admin (the local caller on loopback) drains london from its page;
	// the map shows it draining.
	run(t, ctx, 30*time.Second, "drain london", chromedp.Navigate(info.Console+"#/pop/london"),
		chromedp.WaitVisible(chromedp.CSS(`#drain-btn`)), chromedp.Click(chromedp.CSS(`#drain-btn`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm-drain`)), chromedp.Click(chromedp.CSS(`#confirm-drain`)),
		chromedp.WaitVisible(chromedp.CSS(`#undrain-btn`)))
	step := get(t, ctx, "read the drain step", chromedp.Text(chromedp.CSS(`#drain-step`)))
	if step == "none" {
		t.Errorf("after the drain london's drain step is %q", step)
	}
	screenshot(t, ctx, "pop-london-draining")
	run(t, ctx, 30*time.Second, "map shows london draining", chromedp.Navigate(info.Console+"#/map"),
		chromedp.WaitReady(chromedp.CSS(`#pop-london[data-step="draining"]`)))
	screenshot(t, ctx, "fleet-map-draining")
}
