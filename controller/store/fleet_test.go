package store

import (
	"errors"
	"testing"
	"time"

	"github.com/anyctl/anyctl/compile"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// storedDrainRevision is the mod revision of a PoP's drain record, 0 when
// there is none.
func storedDrainRevision(t *testing.T, cli *clientv3.Client, pop string) int64 {
	t.Helper()
	resp, err := cli.Get(testContext(t), DrainKey(pop))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) == 0 {
		return 0
	}
	return resp.Kvs[0].ModRevision
}

func mustDrainWrite(t *testing.T, pop string, r DrainRecord, existing bool) DrainWrite {
	t.Helper()
	w, err := NewDrainWrite(pop, r, existing)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestDrainWritesAreGuarded(t *testing.T) {
	s, cli := newStore(t)
	ctx := testContext(t)
	r := DrainRecord{Step: compile.DrainGslb, Since: time.Now(), Draining: true}

	for i, want := range []bool{true, false} {
		ok, _, err := s.PutDrain(ctx, mustDrainWrite(t, "london", r, false))
		if err != nil || ok != want {
			t.Fatalf("new record, write %d: ok %v, err %v; want ok %v", i+1, ok, err, want)
		}
	}
	r.ModRevision = storedDrainRevision(t, cli, "london")
	stale := r
	stale.ModRevision--
	if ok, _, err := s.PutDrain(ctx, mustDrainWrite(t, "london", stale, true)); err != nil || ok {
		t.Fatalf("update from a stale read: ok %v, err %v; want refused", ok, err)
	}
	ok, rev, err := s.PutDrain(ctx, mustDrainWrite(t, "london", r, true))
	if err != nil || !ok || rev != storedDrainRevision(t, cli, "london") {
		t.Fatalf("update from a current read: ok %v, rev %d, err %v; want written", ok, rev, err)
	}

	// Two drains checked against the guard as it was: only one starts.
	if ok, _, err := s.StartDrain(ctx, mustDrainWrite(t, "paris", r, false), 0); err != nil || !ok {
		t.Fatalf("first drain checked against the guard: ok %v, err %v; want written", ok, err)
	}
	if ok, _, err := s.StartDrain(ctx, mustDrainWrite(t, "tokyo", r, false), 0); err != nil || ok {
		t.Fatalf("second drain checked against the same guard: ok %v, err %v; want refused", ok, err)
	}
	if got := storedDrainRevision(t, cli, "tokyo"); got != 0 {
		t.Fatalf("refused drain stored at revision %d", got)
	}
	// A forced drain does not compare the guard.
	if ok, _, err := s.StartDrain(ctx, mustDrainWrite(t, "tokyo", r, false), -1); err != nil || !ok {
		t.Fatalf("forced drain: ok %v, err %v; want written", ok, err)
	}
}

func TestTermWritesOnlyWhileItHolds(t *testing.T) {
	s, cli := newStore(t)
	ctx := testContext(t)
	tm, err := s.Campaign(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	if err := tm.PutHolds(ctx, map[string][]string{"edge": {"london"}}); err != nil {
		t.Fatalf("holds while leading: %v", err)
	}
	if _, err := cli.Delete(ctx, ElectionPrefix, clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	if err := tm.PutHolds(ctx, nil); !errors.Is(err, ErrDeposed) {
		t.Fatalf("holds after the election key went: %v, want ErrDeposed", err)
	}
	resp, err := cli.Get(ctx, HoldsKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != `{"edge":["london"]}` {
		t.Fatalf("stored holds %v, want the leader's only", resp.Kvs)
	}
}
