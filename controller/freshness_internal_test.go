package controller

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestFreshnessConfirmsOnlyWhatTheWatchesSaw: a replica confirms its
// state as of etcd's revision once its mirrors have seen that revision,
// even when the writes since were to keys no mirror follows (the watches
// learn of the revision from a progress notification); when one mirror's
// watch stalls while etcd answers reads, it stops confirming, saying
// which revision the state did not reach.
func TestFreshnessConfirmsOnlyWhatTheWatchesSaw(t *testing.T) {
	cli := etcdembedtest.Start(t)
	st := store.New(cli, slog.Default())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cache := newStateCache(st)
	cacheCtx, stallCache := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { cache.run(cacheCtx); close(done) }()
	defer func() { stallCache(); <-done }()
	sw := newStatusWatcher(st, newObserver(), 0.5)
	swDone := make(chan struct{})
	go func() { sw.run(ctx); close(swDone) }()
	defer func() { cancel(); <-swDone }()
	<-cache.Ready()
	<-sw.Ready()

	f := newFreshness(st, time.Second, slog.Default(), sw.published, cache.mirror.Synced, sw.mirror.Synced)
	for i := range 3 {
		put, err := cli.Put(ctx, "/unwatched", "x")
		if err != nil {
			t.Fatal(err)
		}
		c, err := f.confirm(ctx)
		if err != nil {
			t.Fatalf("confirmation %d after a write no mirror follows: %v", i, err)
		}
		if c.rev < put.Header.Revision {
			t.Fatalf("confirmation %d at revision %d; want at least the write's %d", i, c.rev, put.Header.Revision)
		}
	}

	stallCache() // the desired state's watch stops; etcd still answers
	<-done
	put, err := cli.Put(ctx, "/unwatched", "y")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = f.confirm(ctx)
	const want = "the state did not reach etcd's revision"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "1 of 2 watches behind") {
		t.Fatalf("confirming with a stalled watch (etcd at revision %d): %v; want an error containing %q", put.Header.Revision, err, want)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("a confirmation that cannot be made took %s; want it bounded by the interval or the probe bound (2s)", took)
	}
}

// TestReportsPublishedUpToARevision: a publish scheduled for reports newer
// than a revision does not hold back a confirmation of that revision, so
// that a fleet whose reports keep a publish scheduled still confirms;
// one holding reports at or below it does, until it is published.
func TestReportsPublishedUpToARevision(t *testing.T) {
	st := store.New(etcdembedtest.Start(t), slog.Default())
	sw := newStatusWatcher(st, newObserver(), 0.5)
	sw.Reset(map[string]*v1.PopStatus{}, 1)
	report := []store.Change[string, *v1.PopStatus]{{Key: "tokyo", Value: &v1.PopStatus{Pop: "tokyo"}}}
	if !sw.published(1) {
		t.Fatal("nothing scheduled: revision 1 not published")
	}
	sw.Apply(report, 5)
	if !sw.published(4) || sw.published(5) {
		t.Fatalf("a publish scheduled from revision 5: published(4) %v, published(5) %v; want true, false", sw.published(4), sw.published(5))
	}
	sw.publish()
	sw.Apply(report, 6)
	if !sw.published(5) || sw.published(6) {
		t.Fatalf("revision 5 published, a publish scheduled from 6: published(5) %v, published(6) %v; want true, false", sw.published(5), sw.published(6))
	}
}
