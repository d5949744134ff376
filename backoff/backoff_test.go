package backoff

import (
	"context"
	"testing"
	"time"
)

func TestNextStaysWithinBounds(t *testing.T) {
	b := New(100*time.Millisecond, time.Second)
	wantCur := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, c := range wantCur {
		c *= time.Millisecond
		d := b.Next()
		if d < c/2 || d > c {
			t.Fatalf("step %d: wait %v outside [%v, %v]", i, d, c/2, c)
		}
	}
	b.Reset()
	if d := b.Next(); d > 100*time.Millisecond {
		t.Fatalf("after Reset: wait %v, want at most 100ms", d)
	}
}

func TestWaitReturnsFalseOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if New(time.Hour, time.Hour).Wait(ctx) {
		t.Fatal("Wait on a cancelled context returned true")
	}
}
