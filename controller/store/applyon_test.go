package store

import (
	"slices"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// TestApplyOnChecksTheStateItIsGiven applies against a state the caller
// holds: when it is current, the check sees that state and nothing is read
// again; an unchanged object is still told apart from a changed one.
func TestApplyOnChecksTheStateItIsGiven(t *testing.T) {
	s, _ := newStore(t)
	ctx := testContext(t)
	mustApply(t, s, pop("london", 64500), origin("fra", 10))
	base, err := s.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var seen []*resource.State
	check := func(_ []*v1.Object, existing *resource.State) error {
		seen = append(seen, existing)
		return nil
	}
	resp, err := s.ApplyOn(ctx, base, []*v1.Object{pop("london", 64501), origin("fra", 10)}, false, check)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := actions(resp), []v1.ApplyAction{updated, unchanged}; !slices.Equal(got, want) {
		t.Errorf("actions %v, want %v", got, want)
	}
	if len(seen) != 1 || seen[0] != base {
		t.Errorf("the check saw %d states, want the one given", len(seen))
	}
}

// TestApplyOnRedoesFromARead gives ApplyOn a state from before another
// write: the write must not commit on it, but start over from a read, so
// the check sees the other write.
func TestApplyOnRedoesFromARead(t *testing.T) {
	s, _ := newStore(t)
	ctx := testContext(t)
	mustApply(t, s, pop("london", 64500))
	stale, err := s.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, origin("fra", 10))
	var last *resource.State
	check := func(_ []*v1.Object, existing *resource.State) error {
		last = existing
		return nil
	}
	resp, err := s.ApplyOn(ctx, stale, []*v1.Object{pop("london", 64501)}, false, check)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(resp); !slices.Equal(got, []v1.ApplyAction{updated}) {
		t.Errorf("actions %v, want UPDATED", got)
	}
	if _, ok := last.Origins["fra"]; !ok || last == stale {
		t.Error("the last check did not see the write made after the state given")
	}
	if got := mustGet(t, s, refOf(v1.Kind_KIND_POP, "london")); got.GetPop().GetSpec().GetPeers()[0].GetPeerAsn() != 64501 {
		t.Errorf("london stored as %v", got)
	}
}
