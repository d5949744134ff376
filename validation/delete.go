package validation

import (
	"fmt"

	"github.com/anyctl/anyctl/resource"
)

// CheckDelete refuses deleting an object that others still need: a Pop
// named by a service or record selector or a residency rule, an Origin
// named by a record, a GslbZone a record lives in. It also refuses a delete
// that would break another object's rule, such as removing the last Pop of
// a region a service selects. Each refusal names the object that needs the
// deleted one. Deleting an absent object is not refused here.
func CheckDelete(ref resource.Ref, existing *resource.State) error {
	if existing == nil || existing.Get(ref) == nil {
		return nil
	}
	after := existing.Clone()
	after.Delete(ref)
	now := crossCheck(after)
	if len(now) == 0 {
		return nil
	}
	// The whole state is checked once, without the object. Only the
	// objects with a problem then are checked as they were: a problem
	// they already had is not this delete's.
	before := map[string]bool{}
	var was Errors
	eix := newIndex(existing)
	seen := map[resource.Ref]bool{}
	for _, e := range now {
		if seen[e.Ref] {
			continue
		}
		seen[e.Ref] = true
		if o := existing.Get(e.Ref); o != nil {
			crossCheckObject(report{ref: e.Ref, errs: &was}, o, existing, eix)
		}
	}
	for _, e := range was {
		before[e.Error()] = true
	}
	var errs Errors
	for _, e := range now {
		if before[e.Error()] {
			continue
		}
		fe := &FieldError{Ref: ref, order: e.order, err: e}
		if e.refTo == ref {
			fe.Msg = fmt.Sprintf("referred to by %s at %s; remove the reference first", e.Ref, e.Path)
		} else {
			fe.Msg = "deleting it breaks " + e.Error()
		}
		errs = append(errs, fe)
	}
	sortErrors(errs)
	return errs.asError()
}
