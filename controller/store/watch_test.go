package store

import (
	"errors"
	"fmt"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// seen is what a test compares of an event.
type seen struct {
	Type     v1.EventType
	Ref      resource.Ref
	Revision int64
	Version  int64 // the object's resource version
}

func (e seen) String() string {
	return fmt.Sprintf("%v %s @%d (v%d)", e.Type, e.Ref, e.Revision, e.Version)
}

// receive takes n events from the channel, failing on an error event, a
// closed channel or a minute without events.
func receive(t *testing.T, ch <-chan WatchEvent, n int) []WatchEvent {
	t.Helper()
	var out []WatchEvent
	timeout := time.NewTimer(time.Minute)
	defer timeout.Stop()
	for len(out) < n {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("watch closed after %d of %d events", len(out), n)
			}
			if ev.Err != nil {
				t.Fatalf("watch failed after %d of %d events: %v", len(out), n, ev.Err)
			}
			out = append(out, ev)
		case <-timeout.C:
			t.Fatalf("got %d of %d events in a minute", len(out), n)
		}
	}
	return out
}

func summarize(evs []WatchEvent) []seen {
	out := make([]seen, len(evs))
	for i, ev := range evs {
		out[i] = seen{ev.Type, resource.RefOf(ev.Object), ev.Revision, resource.Meta(ev.Object).GetResourceVersion()}
	}
	return out
}

func TestWatchSeesEveryChangeInOrder(t *testing.T) {
	s, _ := newStore(t)
	mustApply(t, s, pop("before-the-watch", 64500))
	_, rev, err := s.List(testContext(t), v1.Kind_KIND_UNSPECIFIED)
	if err != nil {
		t.Fatal(err)
	}
	all := s.Watch(testContext(t), v1.Kind_KIND_UNSPECIFIED, rev+1)
	origins := s.Watch(testContext(t), v1.Kind_KIND_ORIGIN, rev+1)

	// A hundred single-object writes: creates, updates and deletes of pops
	// and origins.
	var want, wantOrigins []seen
	for i := range 100 {
		var o *v1.Object
		if i%2 == 0 {
			o = origin(fmt.Sprintf("o%d", i%7), int32(i))
		} else {
			o = pop(fmt.Sprintf("p%d", i%5), uint32(64500+i))
		}
		ref := resource.RefOf(o)
		var ev seen
		if i%3 == 2 {
			if _, err := s.Get(testContext(t), ref); err == nil {
				r, err := s.Delete(testContext(t), ref, 0, nil)
				if err != nil {
					t.Fatal(err)
				}
				ev = seen{v1.EventType_EVENT_TYPE_DELETE, ref, r, 0}
			}
		}
		if ev.Revision == 0 {
			resp := mustApply(t, s, o)
			if resp.GetRevision() == 0 {
				continue
			}
			ev = seen{v1.EventType_EVENT_TYPE_PUT, ref, resp.GetRevision(), resp.GetRevision()}
		}
		want = append(want, ev)
		if ref.Kind == v1.Kind_KIND_ORIGIN {
			wantOrigins = append(wantOrigins, ev)
		}
	}

	for _, c := range []struct {
		name string
		ch   <-chan WatchEvent
		want []seen
	}{{"all kinds", all, want}, {"origins", origins, wantOrigins}} {
		got := summarize(receive(t, c.ch, len(c.want)))
		var deletes int
		for i := range got {
			if got[i].Type == v1.EventType_EVENT_TYPE_DELETE {
				deletes++
				// The DELETE carries the last stored object, not the delete.
				if got[i].Version == 0 || got[i].Version >= got[i].Revision {
					t.Errorf("%s: delete event %v: want the last object's version, before the delete", c.name, got[i])
				}
				got[i].Version = 0
			}
			if i > 0 && got[i].Revision <= got[i-1].Revision {
				t.Errorf("%s: event %d at revision %d after revision %d", c.name, i, got[i].Revision, got[i-1].Revision)
			}
			if got[i] != c.want[i] {
				t.Errorf("%s: event %d = %v, want %v", c.name, i, got[i], c.want[i])
			}
		}
		if deletes == 0 {
			t.Errorf("%s: no delete among %d events; the test must cover deletes", c.name, len(got))
		}
	}
}

func TestWatchEventContents(t *testing.T) {
	s, _ := newStore(t)
	// Watch from a listed revision, so that the writes below are seen
	// however late etcd registers the watch.
	_, listed, err := s.List(testContext(t), v1.Kind_KIND_UNSPECIFIED)
	if err != nil {
		t.Fatal(err)
	}
	ch := s.Watch(testContext(t), v1.Kind_KIND_UNSPECIFIED, listed+1)

	multi := mustApply(t, s, origin("frankfurt", 10), pop("tokyo", 64500))
	rev, err := s.Delete(testContext(t), refOf(v1.Kind_KIND_ORIGIN, "frankfurt"), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	evs := receive(t, ch, 3)
	if evs[0].Revision != multi.GetRevision() || evs[1].Revision != multi.GetRevision() {
		t.Errorf("one apply's events at revisions %d and %d, want both at %d", evs[0].Revision, evs[1].Revision, multi.GetRevision())
	}
	if !resource.Equal(evs[0].Object, origin("frankfurt", 10)) || !resource.Equal(evs[1].Object, pop("tokyo", 64500)) {
		t.Errorf("PUT events carry %v and %v, want the applied objects", evs[0].Object, evs[1].Object)
	}
	if evs[0].LastInRevision || !evs[1].LastInRevision || !evs[2].LastInRevision {
		t.Errorf("LastInRevision = %v, %v, %v: want only the last event of the two-object apply, and the delete, marked",
			evs[0].LastInRevision, evs[1].LastInRevision, evs[2].LastInRevision)
	}
	del := evs[2]
	if del.Type != v1.EventType_EVENT_TYPE_DELETE || del.Revision != rev || !resource.Equal(del.Object, origin("frankfurt", 10)) {
		t.Errorf("delete event = %v @%d %v, want DELETE @%d with the last object", del.Type, del.Revision, del.Object, rev)
	}
	if m := resource.Meta(del.Object); m.GetResourceVersion() != multi.GetRevision() || m.GetCreateRevision() != multi.GetRevision() {
		t.Errorf("deleted object versions %d/%d, want %d/%d", m.GetResourceVersion(), m.GetCreateRevision(), multi.GetRevision(), multi.GetRevision())
	}
}

func TestWatchAfterCompaction(t *testing.T) {
	s, cli := newStore(t)
	mustApply(t, s, origin("frankfurt", 10))
	resp := mustApply(t, s, origin("frankfurt", 20))
	if _, err := cli.Compact(testContext(t), resp.GetRevision()); err != nil {
		t.Fatal(err)
	}
	ch := s.Watch(testContext(t), v1.Kind_KIND_UNSPECIFIED, 1)
	select {
	case ev, ok := <-ch:
		if !ok || !errors.Is(ev.Err, ErrCompacted) {
			t.Fatalf("watch from a compacted revision sent %+v (open %v), want an ErrCompacted event", ev, ok)
		}
	case <-time.After(time.Minute):
		t.Fatal("no event in a minute")
	}
	if _, ok := <-ch; ok {
		t.Error("watch sent more after the compaction error")
	}
}

func TestWatchUnknownKind(t *testing.T) {
	s, _ := newStore(t)
	ev := <-s.Watch(testContext(t), v1.Kind(99), 0)
	if ev.Err == nil {
		t.Fatalf("watch of kind 99 sent %+v, want an error", ev)
	}
}
