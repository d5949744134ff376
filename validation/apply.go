package validation

import (
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// CheckApply validates an apply of incoming (one or many documents) against
// the existing stored state: no object twice in one apply; every per-object
// rule for each incoming object; then the cross-object rules (references,
// overlaps) over the merged state, existing with incoming put on top.
//
// Problems are reported on incoming objects where possible. An existing
// object is named only when the apply breaks it (say, a Pop leaves the
// region a service selects); problems it already had are not this apply's
// to fix. It returns nil or an Errors (errors.As works with *Errors and
// *FieldError) holding every problem found.
func CheckApply(incoming []*v1.Object, existing *resource.State, opts Options) error {
	var errs Errors
	order := map[resource.Ref]int{}
	merged := resource.NewState()
	if existing != nil {
		merged = existing.Clone()
	}
	for i, o := range incoming {
		ref := resource.RefOf(o)
		r := report{ref: ref, order: i, errs: &errs}
		if ref.Kind == v1.Kind_KIND_UNSPECIFIED {
			r.addf("", "", "document %d has no kind: set one of Pop, AnycastService, Origin, GslbZone, GslbRecord", i+1)
			continue
		}
		if j, dup := order[ref]; dup {
			r.addf("", "", "applied twice, in documents %d and %d: merge them into one", j+1, i+1)
		} else {
			order[ref] = i
		}
		checkObject(r, o, opts)
		merged.Put(o)
	}

	// The cross-object rules run on the incoming objects and on the
	// existing ones the apply may affect, not on the whole state: an
	// existing object's problem counts only when the apply brought it.
	mix := newIndex(merged)
	for i, o := range incoming {
		ref := resource.RefOf(o)
		if ref.Kind == v1.Kind_KIND_UNSPECIFIED || order[ref] != i {
			continue // reported above; a repeat is checked once
		}
		crossCheckObject(report{ref: ref, order: i, errs: &errs}, merged.Get(ref), merged, mix)
	}
	affected := affectedBy(order, existing, merged, mix)
	if len(affected) == 0 {
		sortErrors(errs)
		return errs.asError()
	}
	before := map[string]bool{}
	var was Errors
	eix := newIndex(existing)
	for _, ref := range affected {
		if o := existing.Get(ref); o != nil {
			crossCheckObject(report{ref: ref, errs: &was, existing: true}, o, existing, eix)
		}
	}
	for _, e := range was {
		before[e.Error()] = true
	}
	var now Errors
	for i, ref := range affected {
		crossCheckObject(report{ref: ref, order: len(incoming) + i, errs: &now, existing: true}, merged.Get(ref), merged, mix)
	}
	for _, e := range now {
		if _, ok := order[e.other]; ok {
			continue // the incoming side of the conflict carries it
		}
		if before[e.Error()] {
			continue
		}
		errs = append(errs, e)
	}
	sortErrors(errs)
	return errs.asError()
}

// checkObject applies the per-object rules of any kind.
func checkObject(r report, o *v1.Object, opts Options) {
	checkObjectName(r, r.ref.Name)
	switch x := o.GetResource().(type) {
	case *v1.Object_Pop:
		checkPop(r, x.Pop)
	case *v1.Object_AnycastService:
		checkService(r, x.AnycastService, opts)
	case *v1.Object_Origin:
		checkOrigin(r, x.Origin)
	case *v1.Object_GslbZone:
		checkZone(r, x.GslbZone)
	case *v1.Object_GslbRecord:
		checkRecord(r, x.GslbRecord)
	}
}
