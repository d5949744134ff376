package controller

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	clientv3 "go.etcd.io/etcd/client/v3"
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
	if took, bound := time.Since(start), confirmBound(f.every); took > bound+time.Second {
		t.Errorf("a confirmation that cannot be made took %s; want it bounded by three intervals or two probe bounds (%s)", took, bound)
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

// TestFreshnessNotHeldByAWatchCatchingUp: an Admin API Watch from an old
// revision, with a long history to catch up on, does not hold back the
// replica's confirmations. etcd answers a progress request only when
// every watch on its stream is caught up; a watch catching up shared the
// mirrors' stream, so the mirrors heard of no revision their keys did not
// reach until it had caught up.
func TestFreshnessNotHeldByAWatchCatchingUp(t *testing.T) {
	cli := etcdembedtest.Start(t)
	st := store.New(cli, slog.Default())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// A history of many revisions of one object: the watch below takes
	// etcd seconds to send (a thousand revisions every 100ms at most).
	applied, err := st.Apply(ctx, []*v1.Object{resource.Wrap(&v1.Pop{
		Metadata: &v1.ObjectMeta{Name: "london"},
		Spec:     &v1.PopSpec{Location: &v1.Location{Country: "GB", Continent: "EU"}, LocalAsn: 65001, RouterId: "192.0.2.1"},
	})}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	from := applied.GetRevision()
	kv, err := cli.Get(ctx, store.Key(resource.Ref{Kind: v1.Kind_KIND_POP, Name: "london"}))
	if err != nil || len(kv.Kvs) != 1 {
		t.Fatalf("reading the applied PoP back: %v (%d keys)", err, len(kv.Kvs))
	}
	const history = 40000
	var wg sync.WaitGroup
	puts := make(chan struct{})
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range puts {
				if _, err := cli.Put(ctx, string(kv.Kvs[0].Key), string(kv.Kvs[0].Value)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range history {
		puts <- struct{}{}
	}
	close(puts)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}

	cache := newStateCache(st)
	go cache.run(ctx)
	sw := newStatusWatcher(st, newObserver(), 0.5)
	go sw.run(ctx)
	<-cache.Ready()
	<-sw.Ready()
	f := newFreshness(st, 200*time.Millisecond, slog.Default(), sw.published, cache.mirror.Synced, sw.mirror.Synced)
	if _, err := f.confirm(ctx); err != nil {
		t.Fatalf("confirming before the watch: %v", err)
	}

	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	var seen atomic.Int64
	events := st.Watch(watchCtx, v1.Kind_KIND_UNSPECIFIED, from)
	go func() {
		for ev := range events {
			if ev.Err != nil {
				t.Errorf("the watch: %v", ev.Err)
				return
			}
			seen.Add(1)
		}
	}()
	for i := range 3 {
		// etcd's revision moves on, as a fleet's reports move it.
		if _, err := cli.Put(ctx, "/unwatched", "x"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.confirm(ctx); err != nil {
			t.Fatalf("confirmation %d while a watch catches up on %d revisions (%d events received): %v", i, history, seen.Load(), err)
		}
	}
	t.Logf("3 confirmations while the watch had received %d of %d events", seen.Load(), history+1)
}

// TestFreshnessConfirmsThroughASlowEtcd: a replica whose etcd answers
// within the probes' bound, but later than its interval (a read and then
// a progress notification take two 1.8s round trips here, while etcd's
// revision moves on as a fleet's reports move it), still confirms: as of
// the time each read began, late but true, so that its streams are not
// left for replicas that cannot confirm either. A confirmation abandoned
// at the interval (or the probe bound) never came.
func TestFreshnessConfirmsThroughASlowEtcd(t *testing.T) {
	srv := etcdembedtest.StartServer(t, filepath.Join(t.TempDir(), "etcd"))
	direct := etcdembedtest.Client(t, srv)
	proxy := etcdembedtest.StartCutProxy(t, srv.Endpoints()[0])
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{proxy.URL()}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	st := store.New(cli, slog.Default())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cache := newStateCache(st)
	go cache.run(ctx)
	sw := newStatusWatcher(st, newObserver(), 0.5)
	go sw.run(ctx)
	<-cache.Ready()
	<-sw.Ready()
	go func() { // etcd's revision moves on
		for ctx.Err() == nil {
			direct.Put(ctx, "/unwatched", "x")
			time.Sleep(10 * time.Millisecond)
		}
	}()
	const every = 200 * time.Millisecond
	f := newFreshness(st, every, slog.Default(), sw.published, cache.mirror.Synced, sw.mirror.Synced)
	go f.run(ctx)
	awaitConfirmation := func(after time.Time, within time.Duration) confirmation {
		t.Helper()
		deadline := time.After(within)
		for {
			c, changed := f.Current()
			if c.at.After(after) {
				return c
			}
			select {
			case <-changed:
			case <-deadline:
				t.Fatalf("no confirmation as of a time after %s within %s (the last as of %s)", after.Format(time.StampMilli), within, c.at.Format(time.StampMilli))
			}
		}
	}
	awaitConfirmation(time.Time{}, time.Minute)

	proxy.Delay(900 * time.Millisecond)
	slow := time.Now()
	for i := range 3 {
		c := awaitConfirmation(slow, 30*time.Second)
		slow = c.at
		t.Logf("confirmation %d as of %s, made %s later", i, c.at.Format(time.StampMilli), time.Since(c.at).Round(time.Millisecond))
	}
}
