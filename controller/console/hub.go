package console

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"sync"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// coalesce is how long the hub gathers changes before it pushes a view:
// an agent report, a drain step and the GSLB recompile it causes arrive as
// one update.
const coalesce = 150 * time.Millisecond

// maxStreams bounds the open pages of one console; more are refused
// until some close.
const maxStreams = 512

// refresh pushes a view at least this often, so that ages and hold-downs
// stay current while nothing changes.
const refresh = 5 * time.Second

// hub is the one shared feed: it builds the view when the controller's
// state changes and fans it out to every open page. Pages never cause
// reads of their own.
type hub struct {
	src Source
	log *slog.Logger
	// kick asks for an immediate rebuild (after an action).
	kick chan struct{}

	mu     sync.Mutex // guards subs, last, events and done
	subs   map[chan []byte]struct{}
	last   []byte
	events []event
	done   bool

	// prev and prevObjs are the last view and object versions; only run
	// uses them.
	prev     *view
	prevObjs map[string]int64
}

func newHub(src Source, log *slog.Logger) *hub {
	return &hub{src: src, log: log, kick: make(chan struct{}, 1), subs: map[chan []byte]struct{}{}}
}

// subscribe returns a channel that holds the latest view (older ones are
// replaced, never queued) and a cancel func. ok is false once the hub
// stopped or while maxStreams pages are open.
func (h *hub) subscribe() (ch chan []byte, cancel func(), ok bool) {
	ch = make(chan []byte, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done || len(h.subs) >= maxStreams {
		return nil, nil, false
	}
	h.subs[ch] = struct{}{}
	if h.last != nil {
		ch <- h.last
	}
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[ch]; ok {
			delete(h.subs, ch)
			close(ch)
		}
	}, true
}

// record adds an event (an action taken through the console) and pushes.
func (h *hub) record(e event) {
	h.mu.Lock()
	h.appendEventsLocked([]event{e})
	h.mu.Unlock()
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

func (h *hub) appendEventsLocked(es []event) {
	h.events = append(h.events, es...)
	if n := len(h.events) - maxEvents; n > 0 {
		h.events = append([]event(nil), h.events[n:]...)
	}
}

// run rebuilds and pushes the view on every change until ctx ends, then
// closes every subscriber.
func (h *hub) run(ctx context.Context) {
	defer func() {
		h.mu.Lock()
		h.done = true
		for ch := range h.subs {
			delete(h.subs, ch)
			close(ch)
		}
		h.mu.Unlock()
	}()
	ticker := time.NewTicker(refresh)
	defer ticker.Stop()
	for {
		changed := h.src.Changed()
		h.publish(ctx)
		cases := []reflect.SelectCase{
			{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
			{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(h.kick)},
			{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ticker.C)},
		}
		for _, c := range changed {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c)})
		}
		if i, _, _ := reflect.Select(cases); i == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(coalesce):
		}
	}
}

// publish builds the view and hands it to every subscriber.
func (h *hub) publish(ctx context.Context) {
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	st, err := h.src.Status(sctx)
	cancel()
	if err != nil {
		h.log.Warn("console: reading the status failed", "err", err)
		return
	}
	state := h.src.State()
	v := buildView(st, state, h.src.Snapshot())
	objs := objectVersions(state)
	var es []event
	if h.prev != nil {
		var hist []*v1.HistoryEntry
		if v.Revision != h.prev.Revision {
			hctx, hcancel := context.WithTimeout(ctx, 5*time.Second)
			if hist, err = h.src.History(hctx, 50); err != nil {
				h.log.Warn("console: reading the history failed; applies are shown without who made them", "err", err)
			}
			hcancel()
		}
		es = append(es, diffObjects(h.prevObjs, objs, h.prev.Revision, v.Revision, v.Generated, hist)...)
		es = append(es, diffViews(h.prev, &v, v.Generated)...)
	}
	h.prevObjs = objs
	prev := v
	h.prev = &prev

	h.mu.Lock()
	defer h.mu.Unlock()
	h.appendEventsLocked(es)
	v.Events = append([]event(nil), h.events...)
	if v.Events == nil {
		v.Events = []event{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		h.log.Error("console: encoding the view failed", "err", err)
		return
	}
	h.last = b
	for ch := range h.subs {
		select {
		case <-ch: // replace a view the page has not taken yet
		default:
		}
		ch <- b
	}
}
