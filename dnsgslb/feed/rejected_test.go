package feed_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/dnsgslb/feed"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestFeedTellsTheControllerOfARejectedSnapshot: a snapshot the server
// rejects shows, with its revision and why, under the DNS servers of the
// status of the replica the feed streams from, while the server answers
// from the one before; once it serves a newer snapshot, it no longer
// does. The same rejection is said once: the stream is not renewed
// again for the snapshot sent again.
func TestFeedTellsTheControllerOfARejectedSnapshot(t *testing.T) {
	ctl := startController(t, t.TempDir())
	applyObjects(t, ctl, exampleObjects(t)...)
	f := startFeedWith(t, ctl.Addr, func(s *v1.GslbSnapshot) error {
		if weightIs("eu-west", 61)(s) {
			return errTest
		}
		return nil
	})
	f.await(t, "the example snapshot", func(*v1.GslbSnapshot) bool { return true })

	applyObjects(t, ctl, originWithWeight(t, "eu-west", 61))
	e := awaitDNSServer(t, ctl, t.Name(), "the rejection", func(e *v1.DnsServerEntry) bool { return e.GetSnapshotRejected() != "" })
	if r := e.GetSnapshotRejected(); !strings.Contains(r, "revision ") || !strings.Contains(r, errTest.Error()) {
		t.Errorf("status says the snapshot was rejected with %q; want its revision and %q", r, errTest.Error())
	}

	applyObjects(t, ctl, originWithWeight(t, "eu-west", 62))
	f.await(t, "eu-west at weight 62", weightIs("eu-west", 62))
	awaitDNSServer(t, ctl, t.Name(), "no rejection", func(e *v1.DnsServerEntry) bool { return e.GetSnapshotRejected() == "" })
	if n := strings.Count(f.logs.String(), "gslb snapshot rejected"); n > 2 {
		t.Errorf("the rejected snapshot was built %d times (once sent, once sent again on the stream that said so); log:\n%s", n, f.logs.String())
	}
}

// awaitDNSServer waits until the controller's status has a DNS server
// named name for which ok holds, and returns it.
func awaitDNSServer(t *testing.T, ctl *controllertest.Running, name, what string, ok func(*v1.DnsServerEntry) bool) *v1.DnsServerEntry {
	t.Helper()
	const limit = 10 * time.Second
	deadline := time.Now().Add(limit)
	var last []*v1.DnsServerEntry
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		st, err := ctl.Admin.Status(ctx, &v1.StatusRequest{})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		last = st.GetDnsServers()
		for _, e := range last {
			if e.GetName() == name && ok(e) {
				return e
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("status shows no DNS server %q with %s within %s: %v", name, what, limit, last)
	return nil
}

// TestFeedClearsARejectionServedSince: a snapshot rejected and then
// served without the feed (a GeoIP reload serves the snapshot that
// waited for the database) no longer shows as rejected in the status,
// once the replica next confirms its state.
func TestFeedClearsARejectionServedSince(t *testing.T) {
	ctl := controllertest.StartAt(t, filepath.Join(t.TempDir(), "controller"), func(c *controller.Config) { c.FeedConfirmEvery = 200 * time.Millisecond })
	applyObjects(t, ctl, exampleObjects(t)...)
	var held, waiting atomic.Int64
	logs := newLogRecorder()
	runFeed(t, feed.Config{Controller: ctl.Addr, ServerName: t.Name(), Logger: slog.New(logs)},
		func(_ context.Context, s *v1.GslbSnapshot) error {
			if weightIs("eu-west", 63)(s) {
				waiting.Store(s.GetRevision())
				return errTest
			}
			held.Store(s.GetRevision())
			return nil
		}, held.Load)
	logs.await(t, "gslb snapshot applied")
	applyObjects(t, ctl, originWithWeight(t, "eu-west", 63))
	awaitDNSServer(t, ctl, t.Name(), "the rejection", func(e *v1.DnsServerEntry) bool { return e.GetSnapshotRejected() != "" })
	// The server serves the snapshot it rejected, as a GeoIP reload
	// does with the one that waited for the database.
	held.Store(waiting.Load())
	awaitDNSServer(t, ctl, t.Name(), "no rejection", func(e *v1.DnsServerEntry) bool { return e.GetSnapshotRejected() == "" })
}
