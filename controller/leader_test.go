package controller

import (
	"testing"
	"time"

	"github.com/anyctl/anyctl/compile"
)

// TestLeaderWaitsForTheStateBeforeCampaigning starts a leader before the
// state it leads from: it must not campaign until the desired state, the
// reports and the fleet state have loaded. A leader that led from an empty
// desired state would see no PoPs and delete every drain record.
func TestLeaderWaitsForTheStateBeforeCampaigning(t *testing.T) {
	h := newHarness(t, popObject("london"))
	// A drain the leader moves on as soon as it leads: withdrawn is next.
	h.putDrain(t, "london", drainRecord{Step: compile.DrainGracefulShutdown, Since: time.Now(), Draining: true})
	h.run(h.leader("a").run)
	h.run(h.fleet.run)
	h.run(h.sw.run)
	awaitClosed(t, "the fleet state and the reports loaded", h.fleet.Ready(), h.sw.Ready())
	if c := h.electionValues(t); len(c) != 0 {
		t.Fatalf("candidates %q before the desired state loaded, want none", c)
	}

	h.runCache(t)
	awaitTrue(t, "the leader moving london's drain on", func() bool {
		r, ok := h.storedDrain(t, "london")
		return !ok || r.Step == compile.DrainWithdrawn
	})
	if _, ok := h.storedDrain(t, "london"); !ok {
		t.Fatal("the leader deleted london's drain record")
	}
}
