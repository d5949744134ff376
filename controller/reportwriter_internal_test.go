package controller

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	"github.com/anyctl/anyctl/controller/store"
	"github.com/anyctl/anyctl/popstatus"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"
)

// TestReportWriterRunsOnlyWhileWriting: a stream's report writer is a
// goroutine only while a report waits to be stored; each report handed
// over is stored, and between them no writer runs.
func TestReportWriterRunsOnlyWhileWriting(t *testing.T) {
	cli := etcdembedtest.Start(t)
	st := store.New(cli, slog.New(slog.NewTextHandler(io.Discard, nil)))
	lease := st.ReplicaLease(10 * time.Second)
	t.Cleanup(lease.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := &reportWriter{
		sess: st.StatusSession("london", lease, 10*time.Second, popstatus.Same), log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		stored: prometheus.NewCounter(prometheus.CounterOpts{Name: "stored"}), unchanged: prometheus.NewCounter(prometheus.CounterOpts{Name: "unchanged"}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "failed"}),
		latest: make(chan *v1.PopStatus, 1), ctx: ctx,
	}
	if w.writing.Load() {
		t.Fatal("a writer runs before any report")
	}
	for rev := int64(1); rev <= 3; rev++ {
		report := &v1.PopStatus{Pop: "london", ConfigRevision: rev}
		w.handOver(report)
		deadline := time.Now().Add(time.Minute)
		for w.waiting.Load() != 0 || w.writing.Load() {
			if time.Now().After(deadline) {
				t.Fatalf("report %d: still %d waiting, writer running %v, after a minute", rev, w.waiting.Load(), w.writing.Load())
			}
			time.Sleep(time.Millisecond)
		}
		resp, err := cli.Get(ctx, store.StatusKey("london"))
		if err != nil {
			t.Fatal(err)
		}
		got := &v1.PopStatus{}
		if len(resp.Kvs) != 1 || proto.Unmarshal(resp.Kvs[0].Value, got) != nil || got.GetConfigRevision() != rev {
			t.Fatalf("report %d: stored %v", rev, resp.Kvs)
		}
	}
}
