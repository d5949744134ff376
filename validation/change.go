package validation

import (
	"fmt"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// CheckChange validates a write that puts some objects and deletes others
// in one step (a rollback, an apply with prune): the puts pass every rule
// CheckApply applies, against the state without the deleted objects, and
// no deletion may break an object that stays, as CheckDelete refuses for
// one. Problems the stored state already had are not reported.
func CheckChange(puts []*v1.Object, deletes []resource.Ref, existing *resource.State, opts Options) error {
	if len(deletes) == 0 {
		return CheckApply(puts, existing, opts)
	}
	if existing == nil {
		existing = resource.NewState()
	}
	base := existing.Clone()
	gone := make(map[resource.Ref]bool, len(deletes))
	for _, ref := range deletes {
		base.Delete(ref)
		gone[ref] = true
	}
	if err := CheckApply(puts, base, opts); err != nil {
		return err
	}
	after := base.Clone()
	for _, o := range puts {
		after.Put(o)
	}
	before := map[string]bool{}
	for _, e := range crossCheck(existing) {
		before[e.Error()] = true
	}
	var errs Errors
	for _, e := range crossCheck(after) {
		if before[e.Error()] {
			continue
		}
		if gone[e.refTo] {
			errs = append(errs, &FieldError{Ref: e.refTo, order: e.order, err: e,
				Msg: fmt.Sprintf("deleting it breaks the reference from %s at %s; keep it, or remove the reference in the same change", e.Ref, e.Path)})
			continue
		}
		errs = append(errs, &FieldError{Ref: e.Ref, Path: e.Path, Value: e.Value, order: e.order, err: e,
			Msg: "the deletions in this change break it: " + e.Msg})
	}
	sortErrors(errs)
	return errs.asError()
}
