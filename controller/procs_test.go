package controller_test

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/controller"
)

// TestOneProcessorAtRest: a controller that has its process to itself
// runs on one processor once it is at rest, gives the runtime's default
// back when the desired state changes, so the change's fan-out has every
// processor, goes back to one after the change, and leaves the default
// when it stops. The metric says which.
func TestOneProcessorAtRest(t *testing.T) {
	full := runtime.GOMAXPROCS(0)
	if os.Getenv("GOMAXPROCS") != "" || full < 2 {
		t.Skipf("needs two processors or more and GOMAXPROCS unset (GOMAXPROCS %d)", full)
	}
	r := startWithExamples(t, func(c *controller.Config) { c.OneProcAtRest = true })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, cfg := agentStream(t, ctx, r, "saopaulo")
	metrics := "http://" + r.Ctrl.MetricsAddr().String() + "/metrics"
	await(t, "one processor at rest", func() bool { return runtime.GOMAXPROCS(0) == 1 })
	if body := scrape(t, metrics); !strings.Contains(body, "\nanyctl_controller_processors 1\n") {
		t.Errorf("at rest on one processor, the metrics say otherwise:\n%s", grepLines(body, "anyctl_controller_processors"))
	}

	addToEdgeHTTP(t, ctx, r, "saopaulo")
	msg, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if msg.GetConfig().GetRevision() <= cfg.GetRevision() {
		t.Fatalf("new config revision %d not after %d", msg.GetConfig().GetRevision(), cfg.GetRevision())
	}
	// The change raised the processors; they stay up for seconds after it.
	await(t, "every processor for the change", func() bool { return runtime.GOMAXPROCS(0) == full })
	await(t, "one processor at rest after the change", func() bool { return runtime.GOMAXPROCS(0) == 1 })

	r.Stop(t)
	if got := runtime.GOMAXPROCS(0); got != full {
		t.Errorf("after the controller stopped GOMAXPROCS is %d, want the default %d", got, full)
	}
}

// grepLines returns body's lines that contain s.
func grepLines(body, s string) string {
	var out []string
	for l := range strings.Lines(body) {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}
