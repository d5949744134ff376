package feed_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	"github.com/anyctl/anyctl/dnsgslb/feed"
)

// TestFeedSpreadsOverReplicasThroughARollingRestart restarts each of three
// replicas on one etcd in turn, as an upgrade does, under DNS servers
// spread over them. A server whose replica stops moves to another; the
// servers must not all end up on one replica, which would then carry the
// whole fleet and, when it goes, send every server reconnecting at once.
func TestFeedSpreadsOverReplicasThroughARollingRestart(t *testing.T) {
	etcd := etcdembedtest.StartServer(t, filepath.Join(t.TempDir(), "etcd"))
	dir := t.TempDir()
	socks := make([]string, 3)
	replicas := make([]*controllertest.Running, 3)
	start := func(i int) {
		replicas[i] = controllertest.StartAt(t, "", func(c *controller.Config) {
			c.EtcdEndpoints, c.Listen = etcd.Endpoints(), socks[i]
		})
	}
	for i := range socks {
		socks[i] = "unix:" + filepath.Join(dir, fmt.Sprintf("ctl%d.sock", i))
		start(i)
	}
	applyObjects(t, replicas[0], exampleObjects(t)...)

	const servers = 24
	on := make([]*replicaOf, servers)
	for i := range on {
		on[i] = startReplicaOf(t, strings.Join(socks, ","))
	}
	awaitAll := func(what string, ok func(string) bool) {
		t.Helper()
		deadline := time.Now().Add(waitLimit)
		for _, r := range on {
			for !ok(r.current()) {
				if time.Now().After(deadline) {
					t.Fatalf("%s: a server is on %q after %s", what, r.current(), waitLimit)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	awaitAll("at start", func(s string) bool { return s != "" })
	for i := range replicas {
		replicas[i].Stop(t)
		awaitAll(fmt.Sprintf("replica %d stopped", i), func(s string) bool { return s != "" && s != socks[i] })
		start(i)
	}
	count := map[string]int{}
	for _, r := range on {
		count[r.current()]++
	}
	for _, sock := range socks {
		if count[sock] == servers {
			t.Errorf("after a rolling restart all %d DNS servers stream from %s (per replica: %v)", servers, sock, count)
		}
	}
}

// replicaOf is a feed.Run whose replica is followed from its log.
type replicaOf struct {
	mu      sync.Mutex // guards replica
	replica string     // streamed from now; empty when not connected
}

func startReplicaOf(t *testing.T, controllers string) *replicaOf {
	t.Helper()
	r := &replicaOf{}
	runFeed(t, feed.Config{Controller: controllers, Logger: slog.New(r)}, nil, nil)
	return r
}

func (r *replicaOf) current() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.replica
}

func (r *replicaOf) Enabled(context.Context, slog.Level) bool { return true }
func (r *replicaOf) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *replicaOf) WithGroup(string) slog.Handler            { return r }

func (r *replicaOf) Handle(_ context.Context, rec slog.Record) error {
	var replica string
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "replica" {
			replica = a.Value.String()
		}
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case strings.HasPrefix(rec.Message, "gslb feed connected"):
		r.replica = replica
	case strings.HasPrefix(rec.Message, "gslb feed lost"):
		r.replica = ""
	}
	return nil
}
