package controller

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/anyctl/anyctl/compile"
	"github.com/anyctl/anyctl/controller/store"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// TestLeaderWaitsForTheStateBeforeCampaigning starts a leader before the
// state it leads from: it must not campaign until the desired state, the
// reports and the fleet state have loaded. A leader that led from an empty
// desired state would see no PoPs and delete every drain record.
func TestLeaderWaitsForTheStateBeforeCampaigning(t *testing.T) {
	h := newHarness(t, popObject("london"))
	// A drain the leader moves on as soon as it leads: withdrawn is next.
	h.putDrain(t, "london", store.DrainRecord{Step: compile.DrainGracefulShutdown, Since: time.Now(), Draining: true})
	h.run(h.leader("a").run)
	h.run(h.fleet.run)
	h.run(h.sw.run)
	awaitClosed(t, "the fleet state and the reports loaded", h.fleet.Ready(), h.sw.Ready())
	if c := h.electionValues(t); len(c) != 0 {
		t.Fatalf("candidates %q before the desired state loaded, want none", c)
	}

	h.runCache()
	awaitTrue(t, "the leader moving london's drain on", func() bool {
		r, ok := h.storedDrain(t, "london")
		return !ok || r.Step == compile.DrainWithdrawn
	})
	if _, ok := h.storedDrain(t, "london"); !ok {
		t.Fatal("the leader deleted london's drain record")
	}
}

// TestDeposedLeaderStopsWriting takes the election from a leader behind its
// back, as when its lease expired while it was cut off, and then gives it a
// drain step to take: it must not write, and must campaign again.
func TestDeposedLeaderStopsWriting(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, popObject("london"))
	due := store.DrainRecord{Step: compile.DrainGslb, Since: time.Now(), Draining: true, GslbWait: time.Hour, Period: time.Hour}
	h.putDrain(t, "london", due)
	h.runCache()
	h.run(h.fleet.run)
	h.run(h.sw.run)
	h.run(h.leader("a").run)
	awaitTrue(t, "a leading", func() bool { return slices.Equal(h.electionValues(t), []string{"a"}) })

	if _, err := h.cli.Delete(ctx, store.ElectionPrefix, clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	sess, err := concurrency.NewSession(h.cli)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := concurrency.NewElection(sess, store.ElectionPrefix).Campaign(ctx, "rival"); err != nil {
		t.Fatal(err)
	}
	due.GslbWait = 0
	h.putDrain(t, "london", due)
	awaitTrue(t, "a campaigning again, or taking the step", func() bool {
		r, _ := h.storedDrain(t, "london")
		return r.Step != compile.DrainGslb || slices.Equal(h.electionValues(t), []string{"rival", "a"})
	})
	if r, _ := h.storedDrain(t, "london"); r.Step != compile.DrainGslb {
		t.Fatalf("the deposed leader moved london's drain on to %v", r.Step)
	}
}
