package store

import (
	"errors"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestHistoryRecordsEveryWrite checks that apply and delete each leave one
// record, at the write's own revision, with the author and the diff.
func TestHistoryRecordsEveryWrite(t *testing.T) {
	s, _ := newStore(t)
	ctx := WithAuthor(testContext(t), Author{Actor: "alice", Role: "admin"})
	created, err := s.Apply(ctx, []*v1.Object{origin("fra", 10)}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	updated, err := s.Apply(ctx, []*v1.Object{origin("fra", 20)}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	unchanged := mustApply(t, s, origin("fra", 20)) // no write, no record
	if unchanged.Revision != 0 {
		t.Fatalf("unchanged apply wrote revision %d", unchanged.Revision)
	}
	deleted, err := s.Delete(testContext(t), refOf(v1.Kind_KIND_ORIGIN, "fra"), 0, nil)
	if err != nil {
		t.Fatal(err)
	}

	entries, _, err := s.History(testContext(t), HistoryFilter{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		rev       int64
		actor, op string
		action    v1.ApplyAction
		diff      string
	}
	want := []row{
		{deleted, "local", "delete", v1.ApplyAction_APPLY_ACTION_DELETED, "- metadata.name: \"fra\"\n- spec.location.latitude: 50.11\n- spec.location.longitude: 8.68\n- spec.location.country: \"DE\"\n- spec.location.continent: \"EU\"\n- spec.location.region: \"emea\"\n- spec.addresses[0]: \"192.0.2.10\"\n- spec.weight: 20\n"},
		{updated.Revision, "alice", "apply", v1.ApplyAction_APPLY_ACTION_UPDATED, "- spec.weight: 10\n+ spec.weight: 20\n"},
		{created.Revision, "alice", "apply", v1.ApplyAction_APPLY_ACTION_CREATED, ""},
	}
	if len(entries) != len(want) {
		t.Fatalf("%d records, want %d: %v", len(entries), len(want), entries)
	}
	for i, w := range want {
		e := entries[i]
		if e.Revision != w.rev || e.Actor != w.actor || e.Operation != w.op || len(e.Changes) != 1 || e.Changes[0].Action != w.action {
			t.Errorf("record %d = rev %d %s %s %v, want %+v", i, e.Revision, e.Actor, e.Operation, e.Changes, w)
			continue
		}
		if w.diff != "" && e.Changes[0].Diff != w.diff {
			t.Errorf("record %d diff:\n%s\nwant:\n%s", i, e.Changes[0].Diff, w.diff)
		}
	}
	if entries[1].Role != "admin" {
		t.Errorf("role %q, want admin", entries[1].Role)
	}
}

// TestRollbackAfterCompaction rolls back to a revision etcd has compacted
// away: the history records, not etcd's old revisions, hold the state.
func TestRollbackAfterCompaction(t *testing.T) {
	s, cli := newStore(t)
	ctx := testContext(t)
	if err := s.StartHistory(ctx); err != nil {
		t.Fatal(err)
	}
	good := mustApply(t, s, origin("fra", 10), pop("tokyo", 64500)).Revision
	mustApply(t, s, origin("fra", 99), origin("ams", 5))
	if _, err := s.Delete(ctx, refOf(v1.Kind_KIND_POP, "tokyo"), 0, nil); err != nil {
		t.Fatal(err)
	}
	now, err := s.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Compact(ctx, now.Revision); err != nil {
		t.Fatal(err)
	}

	dry, err := s.Rollback(ctx, good, nil, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if dry.Revision != 0 || dump(t, cli) == "" {
		t.Fatalf("dry run wrote revision %d", dry.Revision)
	}
	resp, err := s.Rollback(ctx, good, nil, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]v1.ApplyAction{}
	for _, r := range resp.Results {
		got[resource.KindName(r.Kind)+"/"+r.Name] = r.Action
	}
	want := map[string]v1.ApplyAction{
		"Pop/tokyo":  v1.ApplyAction_APPLY_ACTION_CREATED,
		"Origin/fra": v1.ApplyAction_APPLY_ACTION_UPDATED,
		"Origin/ams": v1.ApplyAction_APPLY_ACTION_DELETED,
	}
	if len(got) != len(want) {
		t.Fatalf("results %v, want %v", got, want)
	}
	for k, a := range want {
		if got[k] != a {
			t.Errorf("%s: %v, want %v", k, got[k], a)
		}
	}
	after, err := s.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w := after.Get(refOf(v1.Kind_KIND_ORIGIN, "fra")).GetOrigin().GetSpec().GetWeight(); w != 10 {
		t.Errorf("fra weight %d after rollback, want 10", w)
	}
	if after.Get(refOf(v1.Kind_KIND_ORIGIN, "ams")) != nil || after.Get(refOf(v1.Kind_KIND_POP, "tokyo")) == nil {
		t.Errorf("after rollback: ams %v, tokyo %v", after.Get(refOf(v1.Kind_KIND_ORIGIN, "ams")), after.Get(refOf(v1.Kind_KIND_POP, "tokyo")))
	}
	entries, _, err := s.History(ctx, HistoryFilter{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if e := entries[0]; e.Operation != "rollback" || e.Revision != resp.Revision || len(e.Changes) != 3 {
		t.Errorf("newest record: %v, want the rollback at %d with 3 changes", e, resp.Revision)
	}

	// Rolling back one object to before it existed deletes it.
	one := refOf(v1.Kind_KIND_POP, "tokyo")
	if _, err := s.Rollback(ctx, good-1, &one, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, one); !errors.As(err, new(*NotFoundError)) {
		t.Errorf("tokyo after rolling it back to before it was created: %v", err)
	}
}

// TestPruneRaisesFloor prunes the history by count and by age, and checks
// that a rollback behind the floor is refused and writes nothing.
func TestPruneRaisesFloor(t *testing.T) {
	s, cli := newStore(t)
	ctx := testContext(t)
	if err := s.StartHistory(ctx); err != nil {
		t.Fatal(err)
	}
	var revs []int64
	for w := int32(1); w <= 5; w++ {
		revs = append(revs, mustApply(t, s, origin("fra", w)).Revision)
	}
	tm, err := s.Campaign(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	n, err := tm.PruneHistory(ctx, Retention{Count: 3}, time.Now())
	if err != nil || n != 2 {
		t.Fatalf("prune by count: %d deleted, %v; want 2", n, err)
	}
	entries, floor, err := s.History(ctx, HistoryFilter{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 || floor != revs[1] {
		t.Fatalf("after prune: %d records, floor %d; want 3, floor %d", len(entries), floor, revs[1])
	}
	before := dump(t, cli)
	_, err = s.Rollback(ctx, revs[0], nil, false, nil)
	if !errors.Is(err, ErrHistoryTooShort) {
		t.Fatalf("rollback behind the floor: %v, want ErrHistoryTooShort", err)
	}
	t.Logf("refused: %v", err)
	if after := dump(t, cli); after != before {
		t.Errorf("a refused rollback wrote:\n%s\nbefore:\n%s", after, before)
	}
	if _, err := s.Rollback(ctx, revs[1], nil, false, nil); err != nil {
		t.Errorf("rollback to the floor: %v", err)
	}
	if w := mustGet(t, s, refOf(v1.Kind_KIND_ORIGIN, "fra")).GetOrigin().GetSpec().GetWeight(); w != 2 {
		t.Errorf("weight %d after rollback to the floor, want 2", w)
	}
	n, err = tm.PruneHistory(ctx, Retention{Count: 100, Age: time.Hour}, time.Now().Add(2*time.Hour))
	if err != nil || n != 4 {
		t.Fatalf("prune by age: %d deleted, %v; want 4", n, err)
	}
}

// TestHistoryStartsAfterUnrecordedWrites: on a store written before
// history was recorded, the floor starts at the last such write, so no
// rollback reaches into the writes it knows nothing of.
func TestHistoryStartsAfterUnrecordedWrites(t *testing.T) {
	s, cli := newStore(t)
	ctx := testContext(t)
	v, err := encode(origin("fra", 1))
	if err != nil {
		t.Fatal(err)
	}
	// A write as a version without history made it: the object and the guard.
	old, err := cli.Txn(ctx).Then(clientv3.OpPut(Key(refOf(v1.Kind_KIND_ORIGIN, "fra")), string(v)), clientv3.OpPut(GuardKey, "")).Commit()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StartHistory(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.StartHistory(ctx); err != nil { // a second start keeps the floor
		t.Fatal(err)
	}
	mustApply(t, s, origin("fra", 2))
	_, floor, err := s.History(ctx, HistoryFilter{}, 10)
	if err != nil || floor != old.Header.Revision {
		t.Fatalf("floor %d, %v; want %d, the unrecorded write's revision", floor, err, old.Header.Revision)
	}
	if _, err := s.Rollback(ctx, old.Header.Revision-1, nil, true, nil); !errors.Is(err, ErrHistoryTooShort) {
		t.Errorf("rollback to before the unrecorded write: %v, want ErrHistoryTooShort", err)
	}
	if _, err := s.Rollback(ctx, old.Header.Revision, nil, false, nil); err != nil {
		t.Fatal(err)
	}
	if w := mustGet(t, s, refOf(v1.Kind_KIND_ORIGIN, "fra")).GetOrigin().GetSpec().GetWeight(); w != 1 {
		t.Errorf("weight %d after rolling back to the floor, want 1", w)
	}
}
