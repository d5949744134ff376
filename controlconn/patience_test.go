package controlconn

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestPatienceLimit: a client's limit stays its own through the first
// round of moves for staleness, then doubles with each move (jittered,
// never below the doubled limit's lower half), up to maxPatience times;
// a confirmation fresher than any before, and within the limit, brings
// it back, while an older or a late one does not.
func TestPatienceLimit(t *testing.T) {
	const base, replicas = time.Second, 3
	var p Patience
	p.confirmed(time.Now(), base)
	for moves, want := range []time.Duration{1, 1, 1, 2, 4, 8, 16, 16} {
		want *= base
		lo := base + (want-base)/2
		if got := p.limit(base, replicas); got < lo || got > want {
			t.Fatalf("after %d moves: limit %s; want within [%s, %s]", moves, got, lo, want)
		}
		p.moved()
	}
	p.confirmed(time.Now().Add(-time.Hour), base)
	p.confirmed(time.Now().Add(-2*base), base)
	if !p.streak() {
		t.Fatal("an older confirmation, or one older than the limit, ended the streak")
	}
	p.confirmed(time.Now(), base)
	if p.streak() || p.limit(base, replicas) != base {
		t.Fatalf("a fresh confirmation left the streak on (limit %s)", p.limit(base, replicas))
	}
	var none *Patience
	none.moved()
	if none.streak() || none.limit(base, replicas) != base {
		t.Fatal("a nil Patience changed the limit")
	}
}

// TestPatienceNotForASilentReplica: while a client waits longer on its
// replicas (16 limits after six moves), a replica that says, after its
// first response, that it cannot confirm is left the plain limit after
// it says so, and its move says why.
func TestPatienceNotForASilentReplica(t *testing.T) {
	const limit = 200 * time.Millisecond
	var p Patience
	for range 6 {
		p.moved()
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	s := NewStaleness(limit, "--test-stale-after", cancel).Patient(&p, 2)
	defer s.Stop()
	start := time.Now()
	s.Take(0, true, time.Hour) // its last confirmation, an old one
	s.Take(0, false, 0)        // it cannot confirm
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end")
	}
	// The patient limit is at least 1.7 s (8.5 limits).
	if took := time.Since(start); took < limit || took > 1500*time.Millisecond {
		t.Errorf("left a replica that cannot confirm after %s; want the plain limit, %s", took.Round(time.Millisecond), limit)
	}
	if cause := context.Cause(ctx); !strings.Contains(cause.Error(), "the replica says etcd does not answer it") {
		t.Errorf("cause %v; want it to say the replica cannot confirm", cause)
	}
}
