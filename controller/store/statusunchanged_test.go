package store

import (
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// TestStatusSessionUnchangedStoredReport: the report last written is
// unchanged without a comparison (an agent's unchanged message stands for
// it, hundreds of times a second in a fleet); another report is compared.
func TestStatusSessionUnchangedStoredReport(t *testing.T) {
	s, _ := newStore(t)
	lease := s.ReplicaLease(10 * time.Second)
	t.Cleanup(lease.Close)
	compared := 0
	sess := s.StatusSession("london", lease, 10*time.Second, func(stored, next *v1.PopStatus) bool {
		compared++
		return stored.GetConfigRevision() == next.GetConfigRevision()
	})
	st := &v1.PopStatus{Pop: "london", ConfigRevision: 7}
	if written, err := sess.Put(testContext(t), st); err != nil || !written {
		t.Fatalf("first report: written %v, %v", written, err)
	}
	if !sess.Unchanged(st) || compared != 0 {
		t.Fatalf("the stored report: unchanged %v after %d comparisons, want true after none", sess.Unchanged(st), compared)
	}
	if sess.Unchanged(&v1.PopStatus{Pop: "london", ConfigRevision: 8}) || compared != 1 {
		t.Fatalf("another revision: unchanged, or %d comparisons (want 1)", compared)
	}
	if !sess.Unchanged(&v1.PopStatus{Pop: "london", ConfigRevision: 7}) || compared != 2 {
		t.Fatalf("an equal report: not unchanged, or %d comparisons (want 2)", compared)
	}
}

// TestStatusMirrorTakesOwnWritesAsWritten: a report a session wrote comes
// out of the status mirror as the very message written, not decoded
// again; the same key written with other bytes by another client (another
// replica) is decoded, and so is a value equal to none noted.
func TestStatusMirrorTakesOwnWritesAsWritten(t *testing.T) {
	s, cli := newStore(t)
	sink := &recorder[string, *v1.PopStatus]{}
	runMirror(t, s.StatusMirror(sink))
	lease := s.ReplicaLease(10 * time.Second)
	t.Cleanup(lease.Close)
	sess := s.StatusSession("london", lease, 10*time.Second, nil)
	st := &v1.PopStatus{Pop: "london", ConfigRevision: 7}
	if _, err := sess.Put(testContext(t), st); err != nil {
		t.Fatal(err)
	}
	rev := currentRevision(t, cli)
	if got := sink.await(t, rev)["london"]; got != st {
		t.Fatalf("mirror holds %v (a copy: %v), want the message written", got, got != nil)
	}

	other := &v1.PopStatus{Pop: "london", ConfigRevision: 8}
	b, err := proto.Marshal(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(testContext(t), StatusKey("london"), string(b)); err != nil {
		t.Fatal(err)
	}
	got := sink.await(t, currentRevision(t, cli))["london"]
	if got == st || got.GetConfigRevision() != 8 {
		t.Fatalf("after another client's write the mirror holds %v, want revision 8 decoded", got)
	}
	// The session's own next write comes as written again.
	next := &v1.PopStatus{Pop: "london", ConfigRevision: 9}
	if _, err := sess.Put(testContext(t), next); err != nil {
		t.Fatal(err)
	}
	if got := sink.await(t, currentRevision(t, cli))["london"]; got != next {
		t.Fatalf("mirror holds %v, want the message written", got)
	}
}

func currentRevision(t *testing.T, cli *clientv3.Client) int64 {
	t.Helper()
	resp, err := cli.Get(testContext(t), "\x00")
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Revision
}
