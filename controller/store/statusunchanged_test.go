package store

import (
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
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
