package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ApplyCheck validates incoming objects against the stored state they would
// join. It must not modify either.
type ApplyCheck func(incoming []*v1.Object, existing *resource.State) error

// Apply writes the objects in one transaction, all or nothing.
//
// It reads the whole desired state at one revision and checks every
// resource-version precondition: an object whose metadata.resourceVersion
// is non-zero and differs from the stored one (or names an object that does
// not exist) fails the apply with a *ConflictError. Then check (when not
// nil) sees the objects and the state; its error is returned unchanged.
// Each object is then CREATED, UPDATED (with a field-level diff) or
// UNCHANGED, which is not written. When another write lands between the
// read and the commit, the apply starts over from the read.
//
// A dry run returns the same results without writing; the results carry the
// stored versions. The response's revision is that of the write, 0 when
// nothing was written.
func (s *Store) Apply(ctx context.Context, objs []*v1.Object, dryRun bool, check ApplyCheck) (*v1.ApplyResponse, error) {
	return s.apply(ctx, nil, objs, dryRun, check)
}

// ApplyOn is Apply checked against base, a desired state at base.Revision
// that the caller keeps current from this store (the controller's cache),
// instead of reading the whole desired state from etcd: one changed object
// then costs what it changes. The write commits only if no desired-state
// write came after base.Revision; when one did, ApplyOn starts over from a
// read, as Apply does. base must not be modified. A dry run, which
// commits nothing that could check base, reads the state as Apply does.
func (s *Store) ApplyOn(ctx context.Context, base *resource.State, objs []*v1.Object, dryRun bool, check ApplyCheck) (*v1.ApplyResponse, error) {
	return s.apply(ctx, base, objs, dryRun, check)
}

func (s *Store) apply(ctx context.Context, base *resource.State, objs []*v1.Object, dryRun bool, check ApplyCheck) (*v1.ApplyResponse, error) {
	var cc ChangeCheck
	if check != nil {
		cc = func(puts []*v1.Object, _ []resource.Ref, existing *resource.State) error {
			return check(puts, existing)
		}
	}
	return s.Change(ctx, base, ChangeRequest{Objects: objs, DryRun: dryRun, Check: cc})
}

// ChangeCheck validates a write of puts and deletes against the stored
// state. It must not modify any of them.
type ChangeCheck func(puts []*v1.Object, deletes []resource.Ref, existing *resource.State) error

// ChangeRequest is an apply that may also delete.
type ChangeRequest struct {
	Objects []*v1.Object
	// PruneKinds deletes every stored object of these kinds that Objects
	// does not hold.
	PruneKinds []v1.Kind
	DryRun     bool
	Check      ChangeCheck
}

// Change is Apply with prune: the objects are applied and the stored
// objects of PruneKinds they do not hold deleted, in one transaction,
// after Check has seen both. base is as for ApplyOn (nil reads the state).
// Deleted objects have the action DELETED and their fields in the diff.
func (s *Store) Change(ctx context.Context, base *resource.State, req ChangeRequest) (*v1.ApplyResponse, error) {
	objs := req.Objects
	refs := make([]resource.Ref, len(objs))
	values := make([][]byte, len(objs))
	index := make(map[resource.Ref]int, len(objs))
	for i, o := range objs {
		ref := resource.RefOf(o)
		if ref.Kind == v1.Kind_KIND_UNSPECIFIED {
			return nil, requestErrorf("apply: objects[%d] holds no resource; set one of pop, anycastService, origin, gslbZone, gslbRecord", i)
		}
		if err := checkRef(ref); err != nil {
			return nil, fmt.Errorf("apply: objects[%d]: %w", i, err)
		}
		if j, dup := index[ref]; dup {
			return nil, requestErrorf("apply: %s is given twice, as objects[%d] and objects[%d]; give each object once", ref, j, i)
		}
		index[ref] = i
		v, err := encode(o)
		if err != nil {
			return nil, fmt.Errorf("apply: %w", err)
		}
		refs[i], values[i] = ref, v
	}
	for _, k := range req.PruneKinds {
		if err := checkKind(k, false); err != nil {
			return nil, fmt.Errorf("apply: prune: %w", err)
		}
	}
	prune := func(snap *snapshot) []resource.Ref {
		var deletes []resource.Ref
		for _, k := range req.PruneKinds {
			for _, o := range snap.state.OfKind(k) {
				if ref := resource.RefOf(o); !hasRef(index, ref) {
					deletes = append(deletes, ref)
				}
			}
		}
		return deletes
	}
	return s.change(ctx, "apply", base, refs, req.DryRun, func(snap *snapshot) (*changeSet, error) {
		if err := conflicts(objs, refs, snap); err != nil {
			return nil, err
		}
		return &changeSet{puts: objs, refs: refs, values: values, deletes: prune(snap)}, nil
	}, req.Check)
}

func hasRef(index map[resource.Ref]int, ref resource.Ref) bool {
	_, ok := index[ref]
	return ok
}

// changeSet is what one write puts (with the stored encodings) and deletes.
type changeSet struct {
	puts    []*v1.Object
	refs    []resource.Ref
	values  [][]byte
	deletes []resource.Ref
}

// change plans a write with plan on each snapshot, checks it, and commits
// it with its history record, guarded as writeGuarded does. refs are the
// objects the first snapshot must hold encodings of when base is given.
func (s *Store) change(ctx context.Context, what string, base *resource.State, refs []resource.Ref, dryRun bool, plan func(*snapshot) (*changeSet, error), check ChangeCheck) (*v1.ApplyResponse, error) {
	var first *snapshot
	if base != nil && !dryRun {
		var err error
		if first, err = heldSnapshot(base, refs); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
	var resp *v1.ApplyResponse
	rev, err := s.writeGuarded(ctx, what, authorOf(ctx, what), first, func(snap *snapshot) ([]clientv3.Op, []*v1.HistoryChange, error) {
		cs, err := plan(snap)
		if err != nil {
			return nil, nil, err
		}
		if check != nil {
			if err := check(cs.puts, cs.deletes, snap.state); err != nil {
				return nil, nil, err
			}
		}
		var ops []clientv3.Op
		var changes []*v1.HistoryChange
		resp, ops, changes, err = results(cs, snap)
		if dryRun {
			return nil, nil, err
		}
		return ops, changes, err
	})
	if err != nil {
		return nil, err
	}
	if rev != 0 {
		resp.Revision = rev
		for _, r := range resp.Results {
			if r.Action != v1.ApplyAction_APPLY_ACTION_UNCHANGED && r.Action != v1.ApplyAction_APPLY_ACTION_DELETED {
				r.ResourceVersion = rev
			}
		}
	}
	return resp, nil
}

// conflicts checks the objects' resource-version preconditions.
func conflicts(objs []*v1.Object, refs []resource.Ref, snap *snapshot) error {
	var errs []error
	for i, o := range objs {
		given, have := resource.Meta(o).GetResourceVersion(), resource.Meta(snap.state.Get(refs[i])).GetResourceVersion()
		if given != 0 && given != have {
			errs = append(errs, &ConflictError{Ref: refs[i], Op: "apply", Given: given, Stored: have})
		}
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// results decides what a change set does to a snapshot: the results, the
// operations and the history of each changed object.
func results(cs *changeSet, snap *snapshot) (*v1.ApplyResponse, []clientv3.Op, []*v1.HistoryChange, error) {
	resp := &v1.ApplyResponse{Results: make([]*v1.ApplyResult, 0, len(cs.puts)+len(cs.deletes))}
	var ops []clientv3.Op
	var changes []*v1.HistoryChange
	for i, o := range cs.puts {
		ref := cs.refs[i]
		r := &v1.ApplyResult{Kind: ref.Kind, Name: ref.Name}
		old := snap.state.Get(ref)
		switch {
		case old == nil:
			r.Action = v1.ApplyAction_APPLY_ACTION_CREATED
		case snap.values[ref] != nil && bytes.Equal(cs.values[i], snap.values[ref]):
			r.Action = v1.ApplyAction_APPLY_ACTION_UNCHANGED
		default:
			// Encodings can differ for equal objects (unknown fields kept
			// from another version, -0 against 0): no diff, no change.
			r.Diff = resource.Diff(old, o)
			r.Action = v1.ApplyAction_APPLY_ACTION_UPDATED
			if r.Diff == "" {
				r.Action = v1.ApplyAction_APPLY_ACTION_UNCHANGED
			}
		}
		r.ResourceVersion = resource.Meta(old).GetResourceVersion()
		if r.Action != v1.ApplyAction_APPLY_ACTION_UNCHANGED {
			ops = append(ops, clientv3.OpPut(Key(ref), string(cs.values[i])))
			changes = append(changes, change(ref, r.Action, old, o))
		}
		resp.Results = append(resp.Results, r)
	}
	for _, ref := range cs.deletes {
		old := snap.state.Get(ref)
		if old == nil {
			continue
		}
		resp.Results = append(resp.Results, &v1.ApplyResult{
			Kind: ref.Kind, Name: ref.Name, Action: v1.ApplyAction_APPLY_ACTION_DELETED,
			Diff: resource.Diff(old, nil), ResourceVersion: resource.Meta(old).GetResourceVersion(),
		})
		ops = append(ops, clientv3.OpDelete(Key(ref)))
		changes = append(changes, change(ref, v1.ApplyAction_APPLY_ACTION_DELETED, old, nil))
	}
	return resp, ops, changes, nil
}
