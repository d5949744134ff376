package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/proto"
)

const (
	created   = v1.ApplyAction_APPLY_ACTION_CREATED
	updated   = v1.ApplyAction_APPLY_ACTION_UPDATED
	unchanged = v1.ApplyAction_APPLY_ACTION_UNCHANGED
)

func TestApplyCreatesUpdatesAndSkipsUnchanged(t *testing.T) {
	s, cli := newStore(t)
	tokyo, frankfurt := refOf(v1.Kind_KIND_POP, "tokyo"), refOf(v1.Kind_KIND_ORIGIN, "frankfurt")

	first := mustApply(t, s, pop("tokyo", 64500), origin("frankfurt", 10))
	if got, want := actions(first), []v1.ApplyAction{created, created}; !slices.Equal(got, want) {
		t.Fatalf("first apply actions = %v, want %v", got, want)
	}
	rev1 := first.GetRevision()
	for _, r := range first.GetResults() {
		if r.GetResourceVersion() != rev1 {
			t.Errorf("created %s %q has resource version %d, want the apply's revision %d", r.GetKind(), r.GetName(), r.GetResourceVersion(), rev1)
		}
	}
	got := mustGet(t, s, frankfurt)
	if m := resource.Meta(got); m.GetResourceVersion() != rev1 || m.GetCreateRevision() != rev1 {
		t.Errorf("stored versions = %d/%d, want %d/%d", m.GetResourceVersion(), m.GetCreateRevision(), rev1, rev1)
	}
	if !resource.Equal(got, origin("frankfurt", 10)) {
		t.Errorf("stored object differs from the applied one:\n%s", resource.Diff(origin("frankfurt", 10), got))
	}

	before := dump(t, cli)
	again := mustApply(t, s, pop("tokyo", 64500), withVersion(origin("frankfurt", 10), rev1))
	if got, want := actions(again), []v1.ApplyAction{unchanged, unchanged}; !slices.Equal(got, want) {
		t.Errorf("re-apply actions = %v, want %v", got, want)
	}
	if again.GetRevision() != 0 || again.GetResults()[0].GetResourceVersion() != rev1 {
		t.Errorf("re-apply revision %d, version %d; want 0, %d", again.GetRevision(), again.GetResults()[0].GetResourceVersion(), rev1)
	}
	if after := dump(t, cli); after != before {
		t.Errorf("unchanged re-apply wrote to etcd:\nbefore %s\nafter %s", before, after)
	}

	update := mustApply(t, s, pop("tokyo", 64500), origin("frankfurt", 20))
	if got, want := actions(update), []v1.ApplyAction{unchanged, updated}; !slices.Equal(got, want) {
		t.Fatalf("update actions = %v, want %v", got, want)
	}
	if got, want := update.GetResults()[1].GetDiff(), "- spec.weight: 10\n+ spec.weight: 20\n"; got != want {
		t.Errorf("update diff = %q, want %q", got, want)
	}
	rev2 := update.GetRevision()
	if rev2 <= rev1 || update.GetResults()[1].GetResourceVersion() != rev2 || update.GetResults()[0].GetResourceVersion() != rev1 {
		t.Errorf("update revision %d, versions %d and %d; want a revision after %d, the pop at %d and the origin at the new revision",
			rev2, update.GetResults()[0].GetResourceVersion(), update.GetResults()[1].GetResourceVersion(), rev1, rev1)
	}
	if m := resource.Meta(mustGet(t, s, frankfurt)); m.GetResourceVersion() != rev2 || m.GetCreateRevision() != rev1 {
		t.Errorf("updated origin versions = %d/%d, want %d/%d", m.GetResourceVersion(), m.GetCreateRevision(), rev2, rev1)
	}
	if m := resource.Meta(mustGet(t, s, tokyo)); m.GetResourceVersion() != rev1 {
		t.Errorf("unchanged pop version = %d, want %d", m.GetResourceVersion(), rev1)
	}
}

func TestApplyDoesNotChangeItsArguments(t *testing.T) {
	s, _ := newStore(t)
	first := mustApply(t, s, origin("frankfurt", 10))
	in := withVersion(origin("frankfurt", 20), first.GetRevision())
	want := proto.Clone(in)
	mustApply(t, s, in)
	if !proto.Equal(in, want) {
		t.Errorf("Apply changed its argument:\n%s", resource.Diff(want.(*v1.Object), in))
	}
}

func TestApplyDryRun(t *testing.T) {
	s, cli := newStore(t)
	base := mustApply(t, s, origin("frankfurt", 10))
	tests := []struct {
		name        string
		objs        []*v1.Object
		wantActions []v1.ApplyAction
		wantVersion []int64
		wantDiff    []string
	}{
		{"create", []*v1.Object{origin("paris", 5)}, []v1.ApplyAction{created}, []int64{0}, []string{""}},
		{"update", []*v1.Object{origin("frankfurt", 30)}, []v1.ApplyAction{updated}, []int64{base.GetRevision()}, []string{"- spec.weight: 10\n+ spec.weight: 30\n"}},
		{"unchanged", []*v1.Object{origin("frankfurt", 10)}, []v1.ApplyAction{unchanged}, []int64{base.GetRevision()}, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := dump(t, cli)
			resp, err := s.Apply(testContext(t), tt.objs, true, nil)
			if err != nil {
				t.Fatalf("dry run: %v", err)
			}
			if after := dump(t, cli); after != before {
				t.Errorf("dry run wrote to etcd:\nbefore %s\nafter %s", before, after)
			}
			if resp.GetRevision() != 0 {
				t.Errorf("dry run revision = %d, want 0", resp.GetRevision())
			}
			for i, r := range resp.GetResults() {
				if r.GetAction() != tt.wantActions[i] || r.GetResourceVersion() != tt.wantVersion[i] || r.GetDiff() != tt.wantDiff[i] {
					t.Errorf("result %d = %v %d %q, want %v %d %q", i, r.GetAction(), r.GetResourceVersion(), r.GetDiff(), tt.wantActions[i], tt.wantVersion[i], tt.wantDiff[i])
				}
			}
		})
	}
}

func TestFailedApplyChangesNothing(t *testing.T) {
	s, cli := newStore(t)
	base := mustApply(t, s, origin("frankfurt", 10), pop("tokyo", 64500))
	rev := base.GetRevision()
	errRejected := errors.New("rejected by validation")
	rejectParis := func(in []*v1.Object, _ *resource.State) error {
		for _, o := range in {
			if resource.Meta(o).GetName() == "paris" {
				return errRejected
			}
		}
		return nil
	}
	var conflict *ConflictError
	tests := []struct {
		name  string
		objs  []*v1.Object
		check ApplyCheck
		want  func(error) bool
		msg   string // substring of the error
	}{
		{
			name:  "check refuses one object",
			objs:  []*v1.Object{origin("frankfurt", 20), origin("paris", 5)},
			check: rejectParis,
			want:  func(err error) bool { return err == errRejected },
		},
		{
			name: "stale version on the second object",
			objs: []*v1.Object{origin("frankfurt", 20), withVersion(pop("tokyo", 64501), rev-1)},
			want: func(err error) bool {
				return errors.As(err, &conflict) && conflict.Ref == refOf(v1.Kind_KIND_POP, "tokyo")
			},
			msg: fmt.Sprintf(`Pop "tokyo": resource version %d is stale: stored version is %d; get the object again and re-apply`, rev-1, rev),
		},
		{
			name: "version given for a missing object",
			objs: []*v1.Object{origin("frankfurt", 20), withVersion(origin("paris", 5), 3)},
			want: func(err error) bool { return errors.As(err, &conflict) && conflict.Stored == 0 },
			msg:  `Origin "paris": resource version 3 is stale: the object does not exist`,
		},
		{
			name: "two conflicts named",
			objs: []*v1.Object{withVersion(origin("frankfurt", 20), rev+5), withVersion(pop("tokyo", 64501), rev+6)},
			want: func(err error) bool { return errors.As(err, &conflict) },
			msg:  `Pop "tokyo": resource version`,
		},
		{
			name: "object given twice",
			objs: []*v1.Object{origin("paris", 5), origin("frankfurt", 20), origin("paris", 6)},
			want: func(err error) bool { return err != nil },
			msg:  `Origin "paris" is given twice, as objects[0] and objects[2]`,
		},
		{
			name: "empty name",
			objs: []*v1.Object{origin("frankfurt", 20), origin("", 5)},
			want: func(err error) bool { return err != nil },
			msg:  "objects[1]: Origin: metadata.name is empty",
		},
		{
			name: "slash in name",
			objs: []*v1.Object{origin("a/b", 5)},
			want: func(err error) bool { return err != nil },
			msg:  `metadata.name "a/b" must not contain "/"`,
		},
		{
			name: "no resource",
			objs: []*v1.Object{origin("frankfurt", 20), {}},
			want: func(err error) bool { return err != nil },
			msg:  "objects[1] holds no resource",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := dump(t, cli)
			for _, dryRun := range []bool{false, true} {
				resp, err := s.Apply(testContext(t), tt.objs, dryRun, tt.check)
				if err == nil || !tt.want(err) {
					t.Fatalf("apply (dry run %v) = %v, %v; want the error", dryRun, resp, err)
				}
				if !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("error %q does not say %q", err, tt.msg)
				}
			}
			if after := dump(t, cli); after != before {
				t.Errorf("failed apply changed etcd:\nbefore %s\nafter %s", before, after)
			}
		})
	}
}

func TestApplyCheckSeesStoredState(t *testing.T) {
	s, _ := newStore(t)
	base := mustApply(t, s, origin("frankfurt", 10))
	var seen *resource.State
	var incoming []*v1.Object
	check := func(in []*v1.Object, existing *resource.State) error {
		seen, incoming = existing, in
		return nil
	}
	objs := []*v1.Object{origin("paris", 5)}
	if _, err := s.Apply(testContext(t), objs, true, check); err != nil {
		t.Fatal(err)
	}
	if len(incoming) != 1 || incoming[0] != objs[0] {
		t.Errorf("check saw incoming %v, want the applied objects", incoming)
	}
	if seen.Revision < base.GetRevision() {
		t.Errorf("check saw revision %d, want at least %d", seen.Revision, base.GetRevision())
	}
	o := seen.Get(refOf(v1.Kind_KIND_ORIGIN, "frankfurt"))
	if o == nil || resource.Meta(o).GetResourceVersion() != base.GetRevision() {
		t.Errorf("check saw frankfurt as %v, want it stored at version %d", o, base.GetRevision())
	}
	if seen.Get(refOf(v1.Kind_KIND_ORIGIN, "paris")) != nil {
		t.Error("check saw the incoming object in the existing state")
	}
}

// TestConcurrentConflictingApplies races two applies that carry the same
// precondition: exactly one may win each round. A barrier in the check holds
// each apply after its read until both have read, so every round is a real
// race between two writes validated against the same state.
func TestConcurrentConflictingApplies(t *testing.T) {
	s, _ := newStore(t)
	ref := refOf(v1.Kind_KIND_ORIGIN, "frankfurt")
	mustApply(t, s, origin("frankfurt", 1))
	for round := range 20 {
		rv := resource.Meta(mustGet(t, s, ref)).GetResourceVersion()
		weights := []int32{int32(100 + 2*round), int32(101 + 2*round)}
		errs := make([]error, len(weights))
		var read, done sync.WaitGroup
		read.Add(len(weights))
		for i, w := range weights {
			done.Go(func() {
				first := true
				check := func([]*v1.Object, *resource.State) error {
					if first {
						first = false
						read.Done()
						read.Wait()
					}
					return nil
				}
				_, errs[i] = s.Apply(testContext(t), []*v1.Object{withVersion(origin("frankfurt", w), rv)}, false, check)
			})
		}
		done.Wait()

		var winners []int32
		for i, err := range errs {
			var conflict *ConflictError
			switch {
			case err == nil:
				winners = append(winners, weights[i])
			case !errors.As(err, &conflict):
				t.Fatalf("round %d: apply of weight %d: %v, want success or a conflict", round, weights[i], err)
			}
		}
		if len(winners) != 1 {
			t.Fatalf("round %d: %d applies won (errors %v), want exactly one", round, len(winners), errs)
		}
		if got := mustGet(t, s, ref).GetOrigin().GetSpec().GetWeight(); got != winners[0] {
			t.Fatalf("round %d: stored weight %d, want the winner's %d", round, got, winners[0])
		}
	}
}

// TestApplyRedoesAfterAConcurrentWrite lands a write between an apply's read
// and its commit, from inside the check, and shows the apply start over.
func TestApplyRedoesAfterAConcurrentWrite(t *testing.T) {
	tests := []struct {
		name      string
		objs      func(rv int64) []*v1.Object
		intrude   *v1.Object
		wantErr   bool
		wantCalls int
	}{
		{
			name:      "other object written: apply succeeds on the new state",
			objs:      func(int64) []*v1.Object { return []*v1.Object{origin("frankfurt", 20)} },
			intrude:   origin("paris", 5),
			wantCalls: 2,
		},
		{
			name:      "same object written: the precondition fails",
			objs:      func(rv int64) []*v1.Object { return []*v1.Object{withVersion(origin("frankfurt", 20), rv)} },
			intrude:   origin("frankfurt", 30),
			wantErr:   true,
			wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t)
			base := mustApply(t, s, origin("frankfurt", 10))
			calls := 0
			var lastSeen *resource.State
			check := func(_ []*v1.Object, existing *resource.State) error {
				calls++
				lastSeen = existing
				if calls == 1 {
					mustApply(t, s, tt.intrude)
				}
				return nil
			}
			resp, err := s.Apply(testContext(t), tt.objs(base.GetRevision()), false, check)
			var conflict *ConflictError
			if tt.wantErr != errors.As(err, &conflict) {
				t.Fatalf("apply = %v, %v; want a conflict: %v", resp, err, tt.wantErr)
			}
			if calls != tt.wantCalls {
				t.Errorf("check ran %d times, want %d", calls, tt.wantCalls)
			}
			if tt.wantErr {
				if got := mustGet(t, s, refOf(v1.Kind_KIND_ORIGIN, "frankfurt")).GetOrigin().GetSpec().GetWeight(); got != 30 {
					t.Errorf("stored weight %d, want the intruder's 30", got)
				}
				return
			}
			if lastSeen.Get(resource.RefOf(tt.intrude)) == nil {
				t.Error("the redone check did not see the concurrent write")
			}
			if got := mustGet(t, s, refOf(v1.Kind_KIND_ORIGIN, "frankfurt")).GetOrigin().GetSpec().GetWeight(); got != 20 {
				t.Errorf("stored weight %d, want 20", got)
			}
		})
	}
}

func TestApplyTooLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("writes ten thousand objects")
	}
	s, cli := newStore(t)
	objs := make([]*v1.Object, 10000) // one more operation, the guard, is over the limit
	for i := range objs {
		objs[i] = origin(fmt.Sprintf("o-%05d", i), 1)
	}
	before := dump(t, cli)
	_, err := s.Apply(testContext(t), objs, false, nil)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "--max-txn-ops") {
		t.Fatalf("apply of %d objects: %v, want ErrTooLarge naming --max-txn-ops", len(objs), err)
	}
	if after := dump(t, cli); after != before {
		t.Error("a too large apply changed etcd")
	}
}

func TestConflictErrorMessage(t *testing.T) {
	tokyo := refOf(v1.Kind_KIND_POP, "tokyo")
	tests := []struct {
		err  *ConflictError
		want string
	}{
		{&ConflictError{Ref: tokyo, Op: "apply", Given: 12, Stored: 15}, `Pop "tokyo": resource version 12 is stale: stored version is 15; get the object again and re-apply`},
		{&ConflictError{Ref: tokyo, Op: "delete", Given: 12, Stored: 15}, `Pop "tokyo": resource version 12 is stale: stored version is 15; get the object again and delete again`},
		{&ConflictError{Ref: tokyo, Op: "apply", Given: 12}, `Pop "tokyo": resource version 12 is stale: the object does not exist; apply it without a resource version to create it`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%+v.Error() =\n%s\nwant\n%s", *tt.err, got, tt.want)
		}
	}
}
