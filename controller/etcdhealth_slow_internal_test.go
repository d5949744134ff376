package controller

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	"github.com/anyctl/anyctl/controller/store"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestEtcdHealthSlowIsNotLost: an etcd that answers every read, but
// later than the 2 s a healthy one takes (a 2.4 s round trip here), and
// that keeps no lease for the replica (a replica serving DNS servers
// only), is slow, not lost: the replica is neither degraded nor ends its
// streams, and its clients wait for its late confirmations. Cut off (no
// answer at all), it is still lost within its bound.
func TestEtcdHealthSlowIsNotLost(t *testing.T) {
	srv := etcdembedtest.StartServer(t, filepath.Join(t.TempDir(), "etcd"))
	proxy := etcdembedtest.StartCutProxy(t, srv.Endpoints()[0])
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{proxy.URL()}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Streams end after 4 s without an answer (the replica lease's TTL
	// in a small test), and status says degraded as soon.
	const endAfter = 4 * time.Second
	st := store.New(cli, slog.Default())
	if err := st.Ping(ctx, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	h := newEtcdHealth(st, endAfter, endAfter, nil, slog.Default(), func(bool) {})
	go h.run(ctx)

	proxy.Delay(1200 * time.Millisecond)
	slow := time.Now()
	for time.Since(slow) < endAfter+time.Second {
		if err := h.degradedErr(); err != nil {
			t.Fatalf("%s after etcd slowed to a 2.4 s round trip, still answering: degraded (%v)", time.Since(slow).Round(time.Millisecond), err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	proxy.Partition()
	cut := time.Now()
	lost, _ := h.state()
	select {
	case <-lost:
	case <-time.After(endAfter + 10*time.Second):
		t.Fatalf("etcd cut off for %s (streams end after %s without an answer): not lost", time.Since(cut).Round(time.Millisecond), endAfter)
	}
	took := time.Since(cut)
	if took < endAfter-time.Second {
		t.Errorf("etcd lost %s after the cut; want no sooner than %s without an answer", took.Round(time.Millisecond), endAfter)
	}
	t.Logf("cut off etcd lost after %s (%s without an answer allowed)", took.Round(time.Millisecond), endAfter)
}
