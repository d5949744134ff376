package controlconn

import (
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
