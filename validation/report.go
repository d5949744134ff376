package validation

import (
	"fmt"

	"github.com/anyctl/anyctl/resource"
)

// report collects the problems found in one object.
type report struct {
	ref   resource.Ref
	order int
	errs  *Errors
	// existing marks a stored object that an apply leaves alone, checked
	// for what the apply may change around it: rules whose result only
	// the applied objects can change, and whose problems are then
	// reported on them (prefix overlaps), are not looked at.
	existing bool
}

// add records one problem and returns it, so that cross-object checks can
// note which other object it involves.
func (r report) add(path, value, msg string) *FieldError {
	e := &FieldError{Ref: r.ref, Path: path, Value: value, Msg: msg, order: r.order}
	*r.errs = append(*r.errs, e)
	return e
}

func (r report) addf(path, value, format string, args ...any) *FieldError {
	return r.add(path, value, fmt.Sprintf(format, args...))
}

// addErr records err as the rule broken, keeping it for errors.Is.
func (r report) addErr(path, value string, err error) *FieldError {
	e := r.add(path, value, err.Error())
	e.err = err
	return e
}

// idx appends a list index to a path: idx("spec.prefixes", 1) is
// "spec.prefixes[1]".
func idx(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }
