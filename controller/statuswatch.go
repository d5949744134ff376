package controller

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/anyctl/anyctl/backoff"
	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// statusWatcher keeps the PoPs' live reports in memory (list, then watch
// from the next revision; re-list when the watch breaks) and derives the
// fleet's origin health and RTT matrix from them. Every replica computes
// the same verdicts from the same reports.
type statusWatcher struct {
	cli    *clientv3.Client
	obs    *observer
	quorum float64
	log    *slog.Logger

	mu      sync.Mutex // guards reports and changed
	reports map[string]*v1.PopStatus
	changed chan struct{}

	ready     chan struct{} // closed after the first list
	readyOnce sync.Once
}

func newStatusWatcher(cli *clientv3.Client, obs *observer, quorum float64, log *slog.Logger) *statusWatcher {
	return &statusWatcher{cli: cli, obs: obs, quorum: quorum, log: log, reports: map[string]*v1.PopStatus{}, changed: make(chan struct{}), ready: make(chan struct{})}
}

// Ready is closed once the watcher holds the stored reports.
func (w *statusWatcher) Ready() <-chan struct{} { return w.ready }

// Reports returns the live reports by PoP and a channel closed when they
// change. The map and reports must not be mutated.
func (w *statusWatcher) Reports() (map[string]*v1.PopStatus, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reports, w.changed
}

func (w *statusWatcher) run(ctx context.Context) {
	bo := backoff.New(100*time.Millisecond, 5*time.Second)
	for {
		err := w.listAndWatch(ctx, bo)
		if ctx.Err() != nil {
			return
		}
		w.log.Warn("PoP status watch ended; re-listing", "err", err)
		if !bo.Wait(ctx) {
			return
		}
	}
}

func (w *statusWatcher) listAndWatch(ctx context.Context, bo *backoff.Backoff) error {
	resp, err := w.cli.Get(ctx, store.StatusPrefix, clientv3.WithPrefix())
	if err != nil {
		return err
	}
	reports := map[string]*v1.PopStatus{}
	for _, kv := range resp.Kvs {
		w.put(reports, kv)
	}
	w.publish(reports)
	w.readyOnce.Do(func() { close(w.ready) })
	bo.Reset()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for wr := range w.cli.Watch(clientv3.WithRequireLeader(wctx), store.StatusPrefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1)) {
		if err := wr.Err(); err != nil {
			return err
		}
		for _, ev := range wr.Events {
			if ev.Type == mvccpb.DELETE {
				delete(reports, string(ev.Kv.Key[len(store.StatusPrefix):]))
			} else {
				w.put(reports, ev.Kv)
			}
		}
		w.publish(reports)
	}
	return ctx.Err()
}

func (w *statusWatcher) put(reports map[string]*v1.PopStatus, kv *mvccpb.KeyValue) {
	st := &v1.PopStatus{}
	if err := proto.Unmarshal(kv.Value, st); err != nil {
		w.log.Warn("skipping unreadable PoP status", "key", string(kv.Key), "err", err)
		return
	}
	reports[string(kv.Key[len(store.StatusPrefix):])] = st
}

func (w *statusWatcher) publish(reports map[string]*v1.PopStatus) {
	w.mu.Lock()
	w.reports = maps.Clone(reports)
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
	w.obs.setHealth(originVerdicts(reports, w.quorum), rttMatrix(reports))
}
