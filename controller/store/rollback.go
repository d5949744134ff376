package store

import (
	"context"
	"fmt"
	"slices"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// Rollback puts every object (or only one, when one is not nil) back to
// its state at revision to, in one transaction checked by check, and
// records it. The state at to comes from the history records, not from
// etcd's old revisions (which compaction removes): an object a later write
// changed is as that earliest later write found it, and every other object
// is as it is now. A revision before the history floor is refused with an
// error wrapping ErrHistoryTooShort.
func (s *Store) Rollback(ctx context.Context, to int64, one *resource.Ref, dryRun bool, check ChangeCheck) (*v1.ApplyResponse, error) {
	if to < 0 {
		return nil, requestErrorf("rollback: revision %d: want a revision from anyctl history (0 or more)", to)
	}
	detail := fmt.Sprintf("to revision %d", to)
	if one != nil {
		if err := checkRef(*one); err != nil {
			return nil, fmt.Errorf("rollback: %w", err)
		}
		detail = fmt.Sprintf("%s %s", *one, detail)
	}
	a := authorOf(ctx, "rollback")
	a.Operation, a.Detail = "rollback", detail
	ctx = WithAuthor(ctx, a)
	return s.change(ctx, "rollback", nil, nil, dryRun, func(snap *snapshot) (*changeSet, error) {
		if to > snap.state.Revision {
			return nil, requestErrorf("rollback: revision %d is ahead of the store, which is at revision %d", to, snap.state.Revision)
		}
		floor, err := s.HistoryFloor(ctx)
		if err != nil {
			return nil, err
		}
		if to < floor {
			return nil, fmt.Errorf("rollback to revision %d: %w: it is complete only after revision %d (older records were pruned by the retention, or the writes came before history was recorded); roll back to revision %d or later",
				to, ErrHistoryTooShort, floor, floor)
		}
		target := map[resource.Ref]*v1.Object{}
		err = s.scanHistory(ctx, func(e *v1.HistoryEntry) bool {
			if !changesObjects(e) {
				return true // a drain's record: it sorts among the others only roughly
			}
			if e.Revision <= to {
				return false
			}
			for _, c := range e.Changes {
				ref := resource.Ref{Kind: c.Kind, Name: c.Name}
				if c.Action == v1.ApplyAction_APPLY_ACTION_UNCHANGED {
					continue
				}
				if one == nil || ref == *one {
					target[ref] = c.Before // the earliest later write wins
				}
			}
			return true
		})
		if err != nil {
			return nil, err
		}
		refs := make([]resource.Ref, 0, len(target))
		for ref := range target {
			refs = append(refs, ref)
		}
		order := resource.Kinds()
		slices.SortFunc(refs, func(a, b resource.Ref) int {
			if d := slices.Index(order, a.Kind) - slices.Index(order, b.Kind); d != 0 {
				return d
			}
			return cmpString(a.Name, b.Name)
		})
		cs := &changeSet{}
		for _, ref := range refs {
			o := target[ref]
			if o == nil {
				if snap.state.Get(ref) != nil {
					cs.deletes = append(cs.deletes, ref)
				}
				continue
			}
			v, err := encode(o)
			if err != nil {
				return nil, err
			}
			if cur := snap.state.Get(ref); cur != nil && snap.values[ref] == nil {
				if snap.values[ref], err = encode(cur); err != nil {
					return nil, err
				}
			}
			cs.puts, cs.refs, cs.values = append(cs.puts, o), append(cs.refs, ref), append(cs.values, v)
		}
		return cs, nil
	}, check)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// changesObjects reports whether a record changed any object: a drain's
// names its Pop as unchanged.
func changesObjects(e *v1.HistoryEntry) bool {
	return slices.ContainsFunc(e.GetChanges(), func(c *v1.HistoryChange) bool {
		return c.GetAction() != v1.ApplyAction_APPLY_ACTION_UNCHANGED
	})
}
