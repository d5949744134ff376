package controller

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// harness holds a controller's parts over a real embedded etcd, built but
// not running, so that a test can start them in the order it needs.
type harness struct {
	cli   *clientv3.Client
	st    *store.Store
	log   *slog.Logger
	cache *stateCache
	obs   *observer
	m     *metrics
	fleet *fleetState
	sw    *statusWatcher

	ctx context.Context
	wg  sync.WaitGroup
}

// newHarness stores objs and builds the parts; whatever the test runs stops
// when it ends.
func newHarness(t testing.TB, objs ...*v1.Object) *harness {
	t.Helper()
	cli := etcdembedtest.Start(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	h := &harness{cli: cli, st: store.New(cli, log), log: log, obs: newObserver()}
	h.cache = newStateCache(h.st)
	h.m = newMetrics(h.cache)
	h.fleet = newFleetState(h.st, h.obs, h.m)
	h.sw = newStatusWatcher(h.st, h.obs, DefaultOriginDownQuorum)
	if len(objs) > 0 {
		if _, err := h.st.Apply(context.Background(), objs, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.ctx = ctx
	t.Cleanup(func() { cancel(); h.wg.Wait() })
	return h
}

// run runs f until the test ends.
func (h *harness) run(f func(context.Context)) { h.wg.Go(func() { f(h.ctx) }) }

// runCache runs the state cache until the test ends.
func (h *harness) runCache() { h.run(h.cache.run) }

// leader returns a leader replica named id over the harness's parts.
func (h *harness) leader(id string) *leader {
	return &leader{st: h.st, id: id, cache: h.cache, fleet: h.fleet, reports: h.sw, metrics: h.m, log: h.log.With("replica", id), leading: new(atomic.Bool)}
}

// putDrain stores a PoP's drain record behind the controller's back.
func (h *harness) putDrain(t *testing.T, pop string, r store.DrainRecord) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.cli.Put(context.Background(), store.DrainKey(pop), string(b)); err != nil {
		t.Fatal(err)
	}
}

// putHolds stores the withdrawal budget's holds behind the controller's
// back.
func (h *harness) putHolds(t *testing.T, holds map[string][]string) {
	t.Helper()
	b, err := json.Marshal(holds)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.cli.Put(context.Background(), store.HoldsKey, string(b)); err != nil {
		t.Fatal(err)
	}
}

// storedDrain reads a PoP's drain record from etcd; ok is false when there
// is none.
func (h *harness) storedDrain(t *testing.T, pop string) (r store.DrainRecord, ok bool) {
	t.Helper()
	resp, err := h.cli.Get(context.Background(), store.DrainKey(pop))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) == 0 {
		return r, false
	}
	if err := json.Unmarshal(resp.Kvs[0].Value, &r); err != nil {
		t.Fatal(err)
	}
	return r, true
}

// electionValues lists the candidates' values in the leader election,
// the leader first.
func (h *harness) electionValues(t *testing.T) []string {
	t.Helper()
	resp, err := h.cli.Get(context.Background(), store.ElectionPrefix, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, kv := range resp.Kvs {
		out = append(out, string(kv.Value))
	}
	return out
}

// popObject is a PoP with nothing but a name.
func popObject(name string) *v1.Object {
	return resource.Wrap(&v1.Pop{Metadata: &v1.ObjectMeta{Name: name}, Spec: &v1.PopSpec{}})
}

// awaitTrue polls cond every 10ms for up to 20s.
func awaitTrue(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// awaitClosed waits up to 20s for every channel to be closed.
func awaitClosed(t *testing.T, what string, chs ...<-chan struct{}) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for _, ch := range chs {
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
