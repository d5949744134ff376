package store

import (
	"context"
	"fmt"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// DeleteCheck decides whether an object may leave the stored state (for
// example, that nothing refers to it). It must not modify the state.
type DeleteCheck func(ref resource.Ref, existing *resource.State) error

// Delete removes one object and returns the revision of the write. A
// non-zero resourceVersion must match the stored one, else it fails with a
// *ConflictError; a missing object is a *NotFoundError. check (when not nil)
// sees the state the object is still in; its error is returned unchanged.
// Like Apply, Delete starts over when another write lands first.
func (s *Store) Delete(ctx context.Context, ref resource.Ref, resourceVersion int64, check DeleteCheck) (int64, error) {
	if err := checkRef(ref); err != nil {
		return 0, fmt.Errorf("delete: %w", err)
	}
	return s.writeGuarded(ctx, "delete "+ref.String(), authorOf(ctx, "delete"), nil, func(snap *snapshot) ([]clientv3.Op, []*v1.HistoryChange, error) {
		old := snap.state.Get(ref)
		if old == nil {
			return nil, nil, &NotFoundError{Ref: ref}
		}
		if stored := resource.Meta(old).GetResourceVersion(); resourceVersion != 0 && resourceVersion != stored {
			return nil, nil, &ConflictError{Ref: ref, Op: "delete", Given: resourceVersion, Stored: stored}
		}
		if check != nil {
			if err := check(ref, snap.state); err != nil {
				return nil, nil, err
			}
		}
		return []clientv3.Op{clientv3.OpDelete(Key(ref))}, []*v1.HistoryChange{change(ref, v1.ApplyAction_APPLY_ACTION_DELETED, old, nil)}, nil
	})
}
