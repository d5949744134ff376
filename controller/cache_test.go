package controller

import (
	"context"
	"testing"
	"time"

	"github.com/anyctl/anyctl/backoff"
)

// TestCacheListResetsTheBackoff grows the cache's re-list backoff as a few
// broken watches would, then lists: the next wait starts short again.
func TestCacheListResetsTheBackoff(t *testing.T) {
	h := newHarness(t, popObject("london"))
	const minWait = 100 * time.Millisecond
	bo := backoff.New(minWait, 5*time.Second)
	for range 6 {
		bo.Next()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.cache.listAndWatch(ctx, bo) }()
	awaitClosed(t, "the cache's first list", h.cache.Ready())
	cancel()
	<-done
	if d := bo.Next(); d > minWait {
		t.Fatalf("wait after a successful list: %v, want at most %v", d, minWait)
	}
}
