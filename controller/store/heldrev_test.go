package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// heldRecord reads replica's record from etcd: each PoP's revision, nil
// when there is no key, and the lease it is under.
func heldRecord(t *testing.T, cli *clientv3.Client, replica string) (map[string]int64, clientv3.LeaseID) {
	t.Helper()
	resp, err := cli.Get(testContext(t), HeldKey(replica))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) == 0 {
		return nil, 0
	}
	rec := &v1.HeldRevisions{}
	if err := proto.Unmarshal(resp.Kvs[0].Value, rec); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range rec.GetRevisions() {
		for _, pop := range r.GetPops() {
			out[pop] = r.GetRevision()
		}
	}
	return out, clientv3.LeaseID(resp.Kvs[0].Lease)
}

func awaitCond(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after a minute: not %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHeldRevisionsCostAFewWrites: many PoPs' acknowledgements of one
// revision go in one record, grouped by revision, in a few etcd
// revisions, not one per PoP; the mirror reads it back; an entry goes
// only for the stream that set it, and not for a stored report older than
// it; the record goes with its lease and is
// written again under the next, and is deleted when it has no entries.
func TestHeldRevisionsCostAFewWrites(t *testing.T) {
	const n = 500
	s, cli := newStore(t)
	lease := s.ReplicaLease(10 * time.Second)
	t.Cleanup(lease.Close)
	var failures atomic.Int32
	h := s.HeldRevisions("replica-a", lease, func(error) { failures.Add(1) })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go h.Run(ctx)
	sink := &recorder[string, map[string]int64]{}
	runMirror(t, s.HeldMirror(sink))

	type stream struct{}
	owners := make([]*stream, n)
	before := currentRevision(t, cli)
	for i := range n {
		owners[i] = &stream{}
		if !h.Set(fmt.Sprintf("pop-%04d", i), owners[i], 9) {
			t.Fatalf("pop %d: no room", i)
		}
	}
	awaitCond(t, "every PoP's revision 9 stored", func() bool {
		got, _ := heldRecord(t, cli, "replica-a")
		return len(got) == n && got["pop-0000"] == 9 && got[fmt.Sprintf("pop-%04d", n-1)] == 9
	})
	after := currentRevision(t, cli)
	t.Logf("%d acknowledgements took %d etcd revisions", n, after-before)
	if after-before > 5 {
		t.Fatalf("%d acknowledgements took %d etcd revisions, want a few", n, after-before)
	}
	resp, err := cli.Get(testContext(t), HeldKey("replica-a"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &v1.HeldRevisions{}
	if err := proto.Unmarshal(resp.Kvs[0].Value, rec); err != nil || len(rec.GetRevisions()) != 1 {
		t.Fatalf("record %v (%v): want the PoPs grouped under one revision", rec, err)
	}
	if got := sink.await(t, after)["replica-a"]; len(got) != n || got["pop-0007"] != 9 {
		t.Fatalf("mirror holds %d PoPs (pop-0007 at %d), want %d at 9", len(got), got["pop-0007"], n)
	}

	// A stream that did not set pop-0000's entry does not drop it; the one
	// that did does.
	h.Drop("pop-0000", &stream{})
	h.Set("pop-0001", owners[1], 10)
	awaitCond(t, "pop-0001 at 10", func() bool { got, _ := heldRecord(t, cli, "replica-a"); return got["pop-0001"] == 10 })
	if got, _ := heldRecord(t, cli, "replica-a"); got["pop-0000"] != 9 {
		t.Fatalf("another stream's Drop removed pop-0000's entry: %v", got["pop-0000"])
	}
	// A stored report of revision 9 leaves pop-0001's entry at 10.
	h.DropAtMost("pop-0001", owners[1], 9)
	if got := h.Held("pop-0001"); got != 10 {
		t.Fatalf("a report of revision 9 stored: pop-0001's entry at %d, want 10 kept", got)
	}
	h.Drop("pop-0000", owners[0])
	awaitCond(t, "pop-0000's entry dropped", func() bool {
		got, _ := heldRecord(t, cli, "replica-a")
		_, ok := got["pop-0000"]
		return !ok && len(got) == n-1
	})

	// The lease ends: the record goes with it, then is written again
	// under the next lease.
	_, old := heldRecord(t, cli, "replica-a")
	if _, err := cli.Revoke(testContext(t), old); err != nil {
		t.Fatal(err)
	}
	awaitCond(t, "the record written again under a new lease", func() bool {
		got, l := heldRecord(t, cli, "replica-a")
		return len(got) == n-1 && l != old && l != 0
	})
	if got := sink.await(t, currentRevision(t, cli))["replica-a"]; len(got) != n-1 {
		t.Fatalf("mirror holds %d PoPs after the new lease, want %d", len(got), n-1)
	}

	// Every entry dropped: the key is deleted, and the mirror sees it.
	for i := 1; i < n; i++ {
		h.Drop(fmt.Sprintf("pop-%04d", i), owners[i])
	}
	awaitCond(t, "the record deleted", func() bool { got, _ := heldRecord(t, cli, "replica-a"); return got == nil })
	if _, ok := sink.await(t, currentRevision(t, cli))["replica-a"]; ok {
		t.Fatal("the mirror still holds the deleted record")
	}
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d writes failed", n)
	}
}

// TestHeldRevisionsBoundedAndRetried: a record with no room refuses the
// next PoP (its acknowledgement is then stored as a full report); a write
// that fails (NOSPACE) is counted and tried again until it is stored.
func TestHeldRevisionsBoundedAndRetried(t *testing.T) {
	s, cli := newStore(t)
	lease := s.ReplicaLease(10 * time.Second)
	t.Cleanup(lease.Close)
	failed := make(chan error, 100)
	h := s.HeldRevisions("replica-a", lease, func(err error) {
		select {
		case failed <- err:
		default:
		}
	})
	h.maxBytes = 2 * (len("pop-0") + heldEntryBytes)
	owner := &struct{}{}
	if !h.Set("pop-0", owner, 3) || !h.Set("pop-1", owner, 3) || !h.Set("pop-0", owner, 4) {
		t.Fatal("a record with room for two PoPs refused one of two")
	}
	if h.Set("pop-2", owner, 3) {
		t.Fatal("a record with room for two PoPs took a third")
	}

	// The lease is held: what fails is the record's write.
	if _, _, err := lease.Acquire(testContext(t)); err != nil {
		t.Fatal(err)
	}
	member, err := cli.MemberList(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	id := member.Members[0].ID
	mc := pb.NewMaintenanceClient(cli.ActiveConnection())
	if _, err := mc.Alarm(testContext(t), &pb.AlarmRequest{Action: pb.AlarmRequest_ACTIVATE, MemberID: id, Alarm: pb.AlarmType_NOSPACE}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go h.Run(ctx)
	select {
	case err := <-failed:
		t.Logf("under NOSPACE: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("no failed write counted under NOSPACE after a minute")
	}
	if got, _ := heldRecord(t, cli, "replica-a"); got != nil {
		t.Fatalf("under NOSPACE a record was stored: %v", got)
	}
	if _, err := cli.AlarmDisarm(testContext(t), &clientv3.AlarmMember{MemberID: id, Alarm: pb.AlarmType_NOSPACE}); err != nil {
		t.Fatal(err)
	}
	awaitCond(t, "the record stored once etcd takes writes", func() bool {
		got, _ := heldRecord(t, cli, "replica-a")
		return got["pop-0"] == 4 && got["pop-1"] == 3 && len(got) == 2
	})
}
