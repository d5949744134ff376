package dnsgslb

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// badSnapshot is the example snapshot with an origin address that does
// not compile.
func badSnapshot() *v1.GslbSnapshot {
	bad := gslbtest.Snapshot()
	bad.Revision = 99
	bad.Origins[0].Spec.Addresses = []string{"not-an-address"}
	return bad
}

// lockedQuickServer is testServerWith serving the example snapshot from a
// quick index while the test holds updateMu, as a long build or a reload
// would: the refine that the swap started waits for it. The caller
// unlocks updateMu.
func lockedQuickServer(t *testing.T) (*Server, *Index) {
	t.Helper()
	s := testServerWith(t, Config{})
	s.updateMu.Lock()
	if err := s.swap(context.Background(), gslbtest.Snapshot(), nil); err != nil {
		s.updateMu.Unlock()
		t.Fatal(err)
	}
	quick := s.Index()
	if !quick.Quick() {
		s.updateMu.Unlock()
		t.Fatal("the first index is not quick")
	}
	return s, quick
}

// TestRejectedUpdateRefinesAgain: an update stops the refine of the index
// served before it compiles; when the update is rejected, the served index
// is refined all the same, not left without its scope tables until the
// next good snapshot.
func TestRejectedUpdateRefinesAgain(t *testing.T) {
	// The refine is stopped while it waits for the lock the update takes,
	// as when a slow persist or a reload holds it.
	s, quick := lockedQuickServer(t)
	// Update stops the refine before it waits for updateMu: seen here by
	// wrapping the stop function.
	stopped := make(chan struct{})
	s.refineMu.Lock()
	stop := s.stopRefine
	s.stopRefine = func() { stop(); close(stopped) }
	s.refineMu.Unlock()
	done := make(chan error, 1)
	go func() { done <- s.Update(badSnapshot()) }()
	<-stopped
	s.updateMu.Unlock()
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "snapshot revision 99") {
		t.Fatalf("Update(bad) = %v, want the rejected revision named", err)
	}
	s.refining.Wait()
	if ix := s.Index(); ix.Quick() || ix.Revision() != quick.Revision() {
		t.Errorf("after a rejected update: revision %d, quick %v; want revision %d refined", ix.Revision(), ix.Quick(), quick.Revision())
	}

	// The same through Update alone, where the refine may or may not
	// have started when the rejected update stops it.
	for range 10 {
		s := testServerWith(t, Config{})
		if err := s.Update(gslbtest.Snapshot()); err != nil {
			t.Fatal(err)
		}
		if err := s.Update(badSnapshot()); err == nil {
			t.Fatal("a snapshot that does not compile was accepted")
		}
		s.refining.Wait()
		if ix := s.Index(); ix.Quick() || ix.Revision() != gslbtest.Snapshot().GetRevision() {
			t.Fatalf("after a rejected update: revision %d, quick %v; want revision %d refined", ix.Revision(), ix.Quick(), gslbtest.Snapshot().GetRevision())
		}
	}
}

// TestRunEndsRefines: Run cancels the refine when its context ends and
// returns after it: no index is built or swapped in once Run is done.
func TestRunEndsRefines(t *testing.T) {
	s, quick := lockedQuickServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	<-s.Ready()
	cancel()
	select {
	case <-s.refines.Done(): // Run ends the refines once ctx ends
	case <-time.After(10 * time.Second):
		s.updateMu.Unlock()
		t.Fatal("Run did not end the refines 10 s after its context ended")
	}
	select {
	case err := <-ran:
		s.updateMu.Unlock()
		t.Fatalf("Run returned (%v) while a refine was still waiting to build", err)
	default:
	}
	s.updateMu.Unlock()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	s.refining.Wait()
	if s.Index() != quick {
		t.Errorf("a refine swapped in an index (quick %v) after Run's context ended", s.Index().Quick())
	}
}

// TestUpdateNilSnapshot: a nil snapshot is refused, naming it, and the
// server keeps answering from the snapshot it has.
func TestUpdateNilSnapshot(t *testing.T) {
	s := testServerWith(t, Config{})
	if err := s.Update(gslbtest.Snapshot()); err != nil {
		t.Fatal(err)
	}
	s.refining.Wait()
	before := s.Index()
	err := s.Update(nil)
	if err == nil || !strings.Contains(err.Error(), "snapshot is nil") {
		t.Fatalf("Update(nil) = %v, want an error naming the nil snapshot", err)
	}
	s.refining.Wait()
	s.updateMu.Lock()
	defer s.updateMu.Unlock()
	if s.Index() != before || s.snap.GetRevision() != gslbtest.Snapshot().GetRevision() {
		t.Errorf("Update(nil) changed the served index: revision %d", s.Index().Revision())
	}
}

// TestRefineGivesWayToWaitingUpdate: a refine that gets the lock while an
// update waits for it (as one started by a GeoIP reload that held the lock
// can) does not build first: the update's build takes its place.
func TestRefineGivesWayToWaitingUpdate(t *testing.T) {
	s, quick := lockedQuickServer(t)
	s.stopRefine() // the refine swap started
	s.updateMu.Unlock()
	s.refining.Wait()

	s.updating.Add(1) // an update waits
	s.refining.Add(1)
	s.refine(context.Background(), s.snap, quick)
	if s.Index() != quick {
		t.Fatal("a refine built while an update waited for the lock")
	}
	s.updating.Add(-1)
	s.refining.Add(1)
	s.refine(context.Background(), s.snap, quick)
	s.refining.Wait()
	if s.Index().Quick() {
		t.Error("with no update waiting, the refine did not build")
	}
}
