package controller

import (
	"math"
	"testing"
	"time"
)

// TestSilenceWatchFindsOnlySilentStreams: of many streams reporting, only
// the one that sent nothing for the TTL is due, once, until its removal
// says when to look again; a stream that reported meanwhile is not; a
// removed stream is never due.
func TestSilenceWatchFindsOnlySilentStreams(t *testing.T) {
	const ttl = 15 * time.Second
	s := newSilenceWatch(ttl)
	if s.tick != time.Second {
		t.Fatalf("tick for a TTL of 15 s: %s, want 1s", s.tick)
	}
	t0 := time.Unix(1_000_000, 0)
	ws := make([]*reportWriter, 3000)
	for i := range ws {
		ws[i] = &reportWriter{}
		ws[i].lastReport.Store(t0.UnixNano())
		s.add(ws[i])
	}
	silent, gone := ws[7], ws[8]
	s.remove(gone)
	if due := s.due(t0.Add(ttl - time.Millisecond)); len(due) != 0 {
		t.Fatalf("%d due before the TTL", len(due))
	}
	// Every stream but two reports at 5 s.
	for _, w := range ws {
		if w != silent && w != gone {
			w.lastReport.Store(t0.Add(5 * time.Second).UnixNano())
		}
	}
	due := s.due(t0.Add(ttl))
	if len(due) != 1 || due[0] != silent {
		t.Fatalf("due at the TTL: %d writers, want only the silent one", len(due))
	}
	if silent.nextCheck != math.MaxInt64 {
		t.Fatal("a silent stream being expired has a next check")
	}
	if due := s.due(t0.Add(ttl + 4*time.Second)); len(due) != 0 {
		t.Fatalf("%d due while the silent one is being expired and the others reported 14 s ago", len(due))
	}
	if due := s.due(t0.Add(5*time.Second + ttl)); len(due) != len(ws)-2 {
		t.Fatalf("due at the TTL after their last report: %d, want %d (all but the silent one being expired and the removed one)", len(due), len(ws)-2)
	}
}

// TestSilenceTick: the watch looks once a second at the default TTL, and
// at a tenth of a short one.
func TestSilenceTick(t *testing.T) {
	for _, c := range []struct{ ttl, want time.Duration }{
		{15 * time.Second, time.Second},
		{time.Minute, time.Second},
		{2 * time.Second, 200 * time.Millisecond},
		{50 * time.Millisecond, 10 * time.Millisecond},
	} {
		if got := silenceTick(c.ttl); got != c.want {
			t.Errorf("silenceTick(%s) = %s, want %s", c.ttl, got, c.want)
		}
	}
}
