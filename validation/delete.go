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
	before := map[string]bool{}
	for _, e := range crossCheck(existing) {
		before[e.Error()] = true
	}
	after := existing.Clone()
	after.Delete(ref)
	var errs Errors
	for _, e := range crossCheck(after) {
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
