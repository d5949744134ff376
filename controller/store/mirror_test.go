package store

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/anyctl/anyctl/backoff"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// recorder is a mirror's sink that keeps what it was handed.
type recorder[K comparable, V any] struct {
	mu      sync.Mutex // guards the rest
	entries map[K]V
	rev     int64
	resets  int
	applies [][]Change[K, V]
}

func (r *recorder[K, V]) Reset(entries map[K]V, rev int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries, r.rev = entries, rev
	r.resets++
}

func (r *recorder[K, V]) Apply(changes []Change[K, V], rev int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range changes {
		if c.Deleted {
			delete(r.entries, c.Key)
		} else {
			r.entries[c.Key] = c.Value
		}
	}
	r.rev = rev
	r.applies = append(r.applies, changes)
}

// await polls until the recorder is current to rev, for up to a minute,
// and returns a copy of its entries.
func (r *recorder[K, V]) await(t *testing.T, rev int64) map[K]V {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		r.mu.Lock()
		cur, entries := r.rev, maps.Clone(r.entries)
		r.mu.Unlock()
		if cur >= rev {
			return entries
		}
		if time.Now().After(deadline) {
			t.Fatalf("mirror at revision %d after a minute, want %d", cur, rev)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runMirror runs m until the test ends, and waits for its first list.
func runMirror[K comparable, V any](t *testing.T, m *Mirror[K, V]) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-m.Ready():
	case <-time.After(time.Minute):
		t.Fatal("no list in a minute")
	}
}

// TestMirrorFollowsWholeTransactions lists objects stored before the
// mirror starts, then sees a multi-object apply as one change and a delete.
func TestMirrorFollowsWholeTransactions(t *testing.T) {
	s, _ := newStore(t)
	mustApply(t, s, pop("tokyo", 64500))
	sink := &recorder[resource.Ref, *v1.Object]{}
	runMirror(t, s.DesiredMirror(sink))
	multi := mustApply(t, s, origin("frankfurt", 10), origin("paris", 20))
	got := sink.await(t, multi.GetRevision())
	if len(got) != 3 || resource.Meta(got[refOf(v1.Kind_KIND_ORIGIN, "paris")]).GetResourceVersion() != multi.GetRevision() {
		t.Fatalf("mirror holds %v after the apply at revision %d", got, multi.GetRevision())
	}
	rev, err := s.Delete(testContext(t), refOf(v1.Kind_KIND_POP, "tokyo"), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := sink.await(t, rev); len(got) != 2 || got[refOf(v1.Kind_KIND_POP, "tokyo")] != nil {
		t.Fatalf("mirror holds %v after deleting tokyo", got)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if sink.resets != 1 || len(sink.applies) != 2 || len(sink.applies[0]) != 2 {
		t.Fatalf("sink saw %d lists and changes %v; want one list, then the apply's two objects at once, then the delete", sink.resets, sink.applies)
	}
}

// TestMirrorSkipsUnreadableStatus stores a report that is not one: a
// mirror of the reports skips it, and keeps following.
func TestMirrorSkipsUnreadableStatus(t *testing.T) {
	s, cli := newStore(t)
	if _, err := cli.Put(testContext(t), StatusKey("broken"), "\xff not protobuf"); err != nil {
		t.Fatal(err)
	}
	sink := &recorder[string, *v1.PopStatus]{}
	runMirror(t, s.StatusMirror(sink))
	lease := s.ReplicaLease(10 * time.Second)
	t.Cleanup(lease.Close)
	sess := s.StatusSession("london", lease, 10*time.Second, nil)
	if _, err := sess.Put(testContext(t), &v1.PopStatus{Pop: "london"}); err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Get(testContext(t), StatusKey("london"))
	if err != nil {
		t.Fatal(err)
	}
	got := sink.await(t, resp.Header.Revision)
	if len(got) != 1 || got["london"].GetPop() != "london" {
		t.Fatalf("mirror holds %v, want london's report only", got)
	}
}

// TestMirrorListResetsTheBackoff grows the mirror's re-list backoff as a
// few broken watches would, then lists: the next wait starts short again.
func TestMirrorListResetsTheBackoff(t *testing.T) {
	s, _ := newStore(t)
	m := s.DesiredMirror(&recorder[resource.Ref, *v1.Object]{})
	const minWait = 100 * time.Millisecond
	bo := backoff.New(minWait, 5*time.Second)
	for range 6 {
		bo.Next()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.listAndWatch(ctx, bo) }()
	select {
	case <-m.Ready():
	case <-time.After(time.Minute):
		t.Fatal("no list in a minute")
	}
	cancel()
	<-done
	if d := bo.Next(); d > minWait {
		t.Fatalf("wait after a successful list: %v, want at most %v", d, minWait)
	}
}
