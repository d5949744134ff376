package feed_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/dnsgslb/feed"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestFeedReadsOnWhileABuildRuns: a snapshot that takes longer to build
// than --feed-stale-after (a City-sized build on a busy machine) does not
// make the feed leave a replica that kept confirming: the stream is read
// while the build runs. The changes the controller sends meanwhile are
// built once, as the newest snapshot, rather than one build each, the
// oldest first.
func TestFeedReadsOnWhileABuildRuns(t *testing.T) {
	ctl := controllertest.StartAt(t, filepath.Join(t.TempDir(), "controller"), func(c *controller.Config) { c.FeedConfirmEvery = 200 * time.Millisecond })
	applyObjects(t, ctl, exampleObjects(t)...)

	logs := newLogRecorder()
	var conf confirmations
	const staleAfter = time.Second
	building, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex // guards applied
	var applied []*v1.GslbSnapshot
	var held atomic.Int64
	var builds atomic.Int64
	runFeed(t, feed.Config{Controller: ctl.Addr, Logger: slog.New(logs), StaleAfter: staleAfter, Confirmed: conf.confirmed},
		func(_ context.Context, s *v1.GslbSnapshot) error {
			if builds.Add(1) == 1 {
				close(building)
				<-release // the first build is slow
			}
			mu.Lock()
			applied = append(applied, s)
			mu.Unlock()
			held.Store(s.GetRevision())
			return nil
		}, held.Load)
	select {
	case <-building:
	case <-time.After(waitLimit):
		t.Fatalf("no snapshot within %s; log:\n%s", waitLimit, logs.String())
	}
	start := time.Now()
	for w := int32(41); w <= 45; w++ {
		applyObjects(t, ctl, originWithWeight(t, "eu-west", w))
	}
	changed := time.Now()
	// The build lasts twice --feed-stale-after, and until the replica
	// has confirmed a state after the changes (sent after them).
	for time.Since(start) < 2*staleAfter || !conf.lastAt().After(changed) {
		if time.Since(start) > 10*staleAfter {
			close(release)
			t.Fatalf("no confirmation taken in the %s a build ran (last at %v, changes made at %v); log:\n%s",
				time.Since(start).Round(time.Millisecond), conf.lastAt(), changed, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)

	deadline := time.Now().Add(waitLimit)
	for {
		mu.Lock()
		done := len(applied) > 0 && weightIs("eu-west", 45)(applied[len(applied)-1])
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the newest snapshot (eu-west at weight 45) not built within %s; log:\n%s", waitLimit, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if logs.has("gslb feed lost") {
		t.Errorf("the feed left a replica that kept confirming while a build ran; log:\n%s", logs.String())
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range applied {
		for w := int32(41); w < 45; w++ {
			if weightIs("eu-west", w)(s) {
				t.Errorf("revision %d (eu-west at weight %d) was built, though a newer snapshot had arrived during the slow build", s.GetRevision(), w)
			}
		}
	}
}
