package store

import (
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

// TestRestoreKeepsVersions restores a backup of a store whose objects were
// written hundreds of revisions apart into a fresh store: every object
// keeps its resource version and create revision, the history its records,
// and a later write's record sorts after them.
func TestRestoreKeepsVersions(t *testing.T) {
	src, srcCli := newStore(t)
	ctx := testContext(t)
	if err := src.StartHistory(ctx); err != nil {
		t.Fatal(err)
	}
	mustApply(t, src, origin("fra", 1))
	for _, w := range []int32{2, 3} {
		r, err := srcCli.Get(ctx, "x")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.padTo(ctx, r.Header.Revision, r.Header.Revision+300); err != nil {
			t.Fatal(err)
		}
		mustApply(t, src, origin("fra", w), origin("ams", w))
	}
	b, err := src.Backup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckBackup(b, nil); err != nil {
		t.Fatal(err)
	}

	dst, _ := newStore(t)
	res, err := dst.Restore(ctx, b, false, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Renumbered != 0 || res.Objects != 2 || res.History != 3 {
		t.Errorf("restore: %+v, want 2 objects, 3 history records, none renumbered", res)
	}
	got, err := dst.Backup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Objects) != len(b.Objects) {
		t.Fatalf("%d objects restored, want %d", len(got.Objects), len(b.Objects))
	}
	for i := range b.Objects {
		if !proto.Equal(got.Objects[i], b.Objects[i]) {
			t.Errorf("restored %v, want %v", got.Objects[i], b.Objects[i])
		}
	}
	if len(got.History) != 4 || got.History[3].Operation != "restore" {
		t.Fatalf("restored history: %v", got.History)
	}
	for i := range b.History {
		if !proto.Equal(got.History[i], b.History[i]) {
			t.Errorf("history record %d restored as %v, want %v", i, got.History[i], b.History[i])
		}
	}
	resp := mustApply(t, dst, origin("fra", 9))
	entries, _, err := dst.History(ctx, HistoryFilter{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if entries[0].Revision != resp.Revision || entries[0].Changes[0].Action != v1.ApplyAction_APPLY_ACTION_UPDATED {
		t.Errorf("newest record after a write on the restored store: %v, want the write at %d", entries[0], resp.Revision)
	}

	// Into a store that now holds objects: refused, and with force the
	// versions cannot be kept (the store is past them).
	if _, err := dst.Restore(ctx, b, false, false); err == nil {
		t.Fatal("restore into a store holding objects was not refused")
	} else {
		t.Logf("refused: %v", err)
	}
	res, err = dst.Restore(ctx, b, true, false)
	if err != nil || res.Renumbered != 2 {
		t.Errorf("forced restore: %+v, %v; want 2 renumbered", res, err)
	}
}
