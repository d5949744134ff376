package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// TestStatusWritesShareTransactions: reports of many sessions waiting at
// once are stored in shared transactions of at most statusTxnOps writes,
// each report under the replica's lease at the revision its session
// records, and a report the same as the stored one writes nothing.
func TestStatusWritesShareTransactions(t *testing.T) {
	s, cli := newStore(t)
	ctx := testContext(t)
	// The batcher without its workers: every write waits in its queue
	// until they start, as writes do while transactions are under way.
	s.batchOnce.Do(func() { s.batch = newStatusBatcher(s) })
	lease := s.ReplicaLease(10 * time.Second)
	t.Cleanup(lease.Close)
	id, _, err := lease.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before, err := cli.Get(ctx, "nothing")
	if err != nil {
		t.Fatal(err)
	}

	const n = 2*statusTxnOps + 44 // three transactions
	sessions := make([]*StatusSession, n)
	reports := make([]*v1.PopStatus, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		pop := fmt.Sprintf("pop-%03d", i)
		sessions[i] = s.StatusSession(pop, lease, 10*time.Second, sameReport)
		reports[i] = &v1.PopStatus{Pop: pop, ConfigRevision: 7, AgentVersion: "test"}
		wg.Go(func() {
			written, err := sessions[i].Put(ctx, reports[i])
			if err == nil && !written {
				err = fmt.Errorf("not written")
			}
			errs[i] = err
		})
	}
	for len(s.batch.reqs) < n {
		time.Sleep(time.Millisecond)
	}
	for range statusTxnsInFlight {
		go s.batch.work(ctx)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
	}

	resp, err := cli.Get(ctx, StatusPrefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != n {
		t.Fatalf("%d reports stored, want %d", len(resp.Kvs), n)
	}
	perRev := map[int64]int{}
	for i, kv := range resp.Kvs {
		ss := sessions[i]
		if string(kv.Key) != StatusKey(ss.pop) {
			t.Fatalf("key %d is %s, want %s", i, kv.Key, StatusKey(ss.pop))
		}
		st := &v1.PopStatus{}
		if err := proto.Unmarshal(kv.Value, st); err != nil || !proto.Equal(st, reports[i]) {
			t.Fatalf("%s holds %v (%v), want %v", kv.Key, st, err, reports[i])
		}
		if clientv3.LeaseID(kv.Lease) != id {
			t.Fatalf("%s is under lease %x, want the replica's %x", kv.Key, kv.Lease, id)
		}
		if kv.ModRevision != ss.modRev {
			t.Fatalf("%s was written at revision %d, its session recorded %d", kv.Key, kv.ModRevision, ss.modRev)
		}
		perRev[kv.ModRevision]++
	}
	if moved := resp.Header.Revision - before.Header.Revision; moved != 3 || len(perRev) != 3 {
		t.Fatalf("%d reports took %d revisions (reports per revision: %v), want 3 transactions of at most %d", n, moved, perRev, statusTxnOps)
	}
	for rev, k := range perRev {
		if k > statusTxnOps {
			t.Fatalf("%d reports in the transaction of revision %d, more than %d", k, rev, statusTxnOps)
		}
	}

	// The same reports again: nothing is written.
	for i, ss := range sessions {
		if written, err := ss.Put(ctx, reports[i]); err != nil || written {
			t.Fatalf("the same report again: written %v, %v; want nothing written", written, err)
		}
	}
	// Two sessions of one PoP (a stream and the one replacing it) never
	// share a transaction: etcd refuses a key twice in one.
	a := s.StatusSession("pop-000", lease, 10*time.Second, sameReport)
	for _, ss := range []*StatusSession{a, sessions[0]} {
		wg.Go(func() {
			if _, err := ss.Put(ctx, &v1.PopStatus{Pop: "pop-000", ConfigRevision: 8}); err != nil {
				t.Errorf("second session of pop-000: %v", err)
			}
		})
	}
	wg.Wait()
	if a.modRev == sessions[0].modRev {
		t.Fatalf("two writes of one key in the transaction of revision %d", a.modRev)
	}
}

// TestStatusWriteWhoseWriterLeftIsDropped: a write whose writer gave up
// (its stream ended) before its transaction started is left out; the
// others of its batch are stored.
func TestStatusWriteWhoseWriterLeftIsDropped(t *testing.T) {
	s, cli := newStore(t)
	ctx := testContext(t)
	s.batchOnce.Do(func() { s.batch = newStatusBatcher(s) })
	lease := s.ReplicaLease(10 * time.Second)
	t.Cleanup(lease.Close)
	gone, leave := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i, c := range []context.Context{ctx, gone, ctx} {
		pop := fmt.Sprintf("pop-%d", i)
		wg.Go(func() {
			_, err := s.StatusSession(pop, lease, 10*time.Second, sameReport).Put(c, &v1.PopStatus{Pop: pop})
			if (err != nil) != (c == gone) {
				t.Errorf("%s: %v", pop, err)
			}
		})
		for len(s.batch.reqs) < i+1 {
			time.Sleep(time.Millisecond)
		}
	}
	leave()
	go s.batch.work(ctx)
	wg.Wait()
	resp, err := cli.Get(ctx, StatusPrefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, kv := range resp.Kvs {
		keys = append(keys, string(kv.Key))
	}
	if want := []string{StatusKey("pop-0"), StatusKey("pop-2")}; fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Fatalf("stored %v, want %v", keys, want)
	}
}

func sameReport(stored, next *v1.PopStatus) bool { return proto.Equal(stored, next) }
