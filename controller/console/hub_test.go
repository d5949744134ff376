package console

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// stubSource is a Source whose status the test sets; it stands in for the
// controller's state only, to test the fan-out.
type stubSource struct {
	mu      sync.Mutex // guards status and changed
	status  *v1.StatusResponse
	changed chan struct{}
}

func (s *stubSource) set(st *v1.StatusResponse) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = st
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *stubSource) Status(context.Context) (*v1.StatusResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status, nil
}
func (s *stubSource) State() *resource.State     { return &resource.State{} }
func (s *stubSource) Snapshot() *v1.GslbSnapshot { return &v1.GslbSnapshot{} }
func (s *stubSource) Changed() []<-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return []<-chan struct{}{s.changed}
}
func (s *stubSource) Drain(context.Context, *v1.DrainRequest) (*v1.DrainResponse, error) {
	return nil, nil
}
func (s *stubSource) Undrain(context.Context, *v1.UndrainRequest) (*v1.UndrainResponse, error) {
	return nil, nil
}
func (s *stubSource) History(context.Context, int) ([]*v1.HistoryEntry, error) { return nil, nil }

func statusWith(step v1.DrainStep) *v1.StatusResponse {
	return &v1.StatusResponse{Revision: 1, Pops: []*v1.PopStatusEntry{{Pop: "london", Drain: &v1.DrainState{Step: step, Draining: true}}}}
}

func TestHubFansOutOneView(t *testing.T) {
	src := &stubSource{status: statusWith(v1.DrainStep_DRAIN_STEP_NONE), changed: make(chan struct{})}
	h := newHub(src, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	var pages []chan []byte
	for range 3 {
		ch, stop, ok := h.subscribe()
		if !ok {
			t.Fatal("subscribe refused")
		}
		defer stop()
		pages = append(pages, ch)
	}
	// Every page gets the first view, then views until london's drain
	// step shows.
	for i, ch := range pages {
		select {
		case <-ch:
		case <-time.After(30 * time.Second):
			t.Fatalf("page %d: no first view", i)
		}
	}
	src.set(statusWith(v1.DrainStep_DRAIN_STEP_GSLB))
	for i, ch := range pages {
		var b []byte
		for !strings.Contains(string(b), `"drainStep":"gslb"`) {
			select {
			case b = <-ch:
			case <-time.After(30 * time.Second):
				t.Fatalf("page %d: no view with the drain step", i)
			}
		}
		var v view
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		if len(v.Events) == 0 || !strings.Contains(v.Events[len(v.Events)-1].Text, "drain step none → gslb") {
			t.Errorf("page %d: events %v, want the drain step", i, v.Events)
		}
	}

	// Past maxStreams pages are refused.
	var stops []func()
	defer func() {
		for _, s := range stops {
			s()
		}
	}()
	for n := len(pages); n < maxStreams; n++ {
		_, stop, ok := h.subscribe()
		if !ok {
			t.Fatalf("refused at %d pages, below %d", n, maxStreams)
		}
		stops = append(stops, stop)
	}
	if _, _, ok := h.subscribe(); ok {
		t.Errorf("page %d accepted, past maxStreams", maxStreams+1)
	}
}
