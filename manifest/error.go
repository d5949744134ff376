package manifest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/anyctl/anyctl/resource"
)

// Error is one problem in one document of an input.
type Error struct {
	// Source names the input: a file path or "<stdin>".
	Source string
	// Document is the 1-based index of the document among the input's
	// non-empty documents; Item is the 1-based index of the object inside a
	// document holding a list of objects (JSON arrays), else 0.
	Document int
	Item     int
	// Line is the 1-based line in the input, 0 when unknown.
	Line int
	// Object is the object the document declares, when known.
	Object *resource.Ref
	// Path is the field path inside the document ("spec.peers[0].peerAsn"),
	// empty for problems with the document as a whole.
	Path string
	Err  error
}

// Error renders the problem as
// pops.yaml:14: document 3 (Pop "tokyo"): spec.peers[0]: unknown field "asnn".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Document > 0 {
		fmt.Fprintf(&b, ": document %d", e.Document)
		if e.Item > 0 {
			fmt.Fprintf(&b, " item %d", e.Item)
		}
		if e.Object != nil {
			fmt.Fprintf(&b, " (%s)", e.Object)
		}
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// errorList collects problems up to maxErrors.
type errorList struct {
	errs    []error
	dropped int
}

func (l *errorList) add(err error) {
	if len(l.errs) >= maxErrors {
		l.dropped++
		return
	}
	l.errs = append(l.errs, err)
}

func (l *errorList) err() error {
	if l.dropped > 0 {
		return errors.Join(append(l.errs, fmt.Errorf("... and %d more problems", l.dropped))...)
	}
	return errors.Join(l.errs...)
}
