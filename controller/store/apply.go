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

	var first *snapshot
	if base != nil && !dryRun {
		var err error
		if first, err = heldSnapshot(base, refs); err != nil {
			return nil, fmt.Errorf("apply: %w", err)
		}
	}
	var resp *v1.ApplyResponse
	rev, err := s.writeGuarded(ctx, "apply", first, func(snap *snapshot) ([]clientv3.Op, error) {
		var ops []clientv3.Op
		var err error
		resp, ops, err = plan(objs, refs, values, snap, check)
		if dryRun {
			return nil, err
		}
		return ops, err
	})
	if err != nil {
		return nil, err
	}
	if rev != 0 {
		resp.Revision = rev
		for _, r := range resp.Results {
			if r.Action != v1.ApplyAction_APPLY_ACTION_UNCHANGED {
				r.ResourceVersion = rev
			}
		}
	}
	return resp, nil
}

// plan decides what an apply does to a snapshot: the results and the puts.
func plan(objs []*v1.Object, refs []resource.Ref, values [][]byte, snap *snapshot, check ApplyCheck) (*v1.ApplyResponse, []clientv3.Op, error) {
	stored := make([]*v1.Object, len(objs))
	var conflicts []error
	for i, o := range objs {
		stored[i] = snap.state.Get(refs[i])
		given, have := resource.Meta(o).GetResourceVersion(), resource.Meta(stored[i]).GetResourceVersion()
		if given != 0 && given != have {
			conflicts = append(conflicts, &ConflictError{Ref: refs[i], Op: "apply", Given: given, Stored: have})
		}
	}
	if len(conflicts) == 1 {
		return nil, nil, conflicts[0]
	}
	if len(conflicts) > 1 {
		return nil, nil, errors.Join(conflicts...)
	}
	if check != nil {
		if err := check(objs, snap.state); err != nil {
			return nil, nil, err
		}
	}

	resp := &v1.ApplyResponse{Results: make([]*v1.ApplyResult, len(objs))}
	var ops []clientv3.Op
	for i, o := range objs {
		r := &v1.ApplyResult{Kind: refs[i].Kind, Name: refs[i].Name}
		old := stored[i]
		switch {
		case old == nil:
			r.Action = v1.ApplyAction_APPLY_ACTION_CREATED
		case bytes.Equal(values[i], snap.values[refs[i]]):
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
			ops = append(ops, clientv3.OpPut(Key(refs[i]), string(values[i])))
		}
		resp.Results[i] = r
	}
	return resp, ops, nil
}
