package feed_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/anyctl/anyctl/dnsgslb/feed"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestFeedResubscribesToTheSameReplica: a stream renewed to report the
// DNSKEY RRsets again (Config.Resubscribe) is renewed with the replica it
// was on, not moved to the next one: that one may be down, and the feed
// would say it lost the controller over a key change.
func TestFeedResubscribesToTheSameReplica(t *testing.T) {
	dir := t.TempDir()
	ctl := startController(t, dir)
	applyObjects(t, ctl, exampleObjects(t)...)
	down := "unix:" + filepath.Join(dir, "down.sock")
	logs := newLogRecorder()
	resubscribe := make(chan struct{}, 1)
	snaps := make(chan struct{}, 16)
	runFeed(t, feed.Config{Controller: ctl.Addr + "," + down, Logger: slog.New(logs), Resubscribe: resubscribe},
		func(context.Context, *v1.GslbSnapshot) error { snaps <- struct{}{}; return nil }, nil)
	awaitSnapshot := func() {
		t.Helper()
		select {
		case <-snaps:
		case <-time.After(waitLimit):
			t.Fatalf("no snapshot within %s; log:\n%s", waitLimit, logs.String())
		}
	}
	awaitSnapshot()
	logs.reset()
	resubscribe <- struct{}{}
	logs.await(t, "subscribing again")
	awaitSnapshot()
	if logs.has("gslb feed lost") {
		t.Errorf("renewing the stream lost the feed; log:\n%s", logs.String())
	}
}
