package validation

import (
	"sort"
	"strings"

	"github.com/anyctl/anyctl/resource"
)

// FieldError is one violated rule.
type FieldError struct {
	Ref resource.Ref // the object
	// Path is the field as written in YAML ("spec.prefixes[1]"), "" for the
	// object as a whole.
	Path string
	// Value is the bad value as written, "" when there is none (a missing
	// field) or when Msg already states it (an ASN).
	Value string
	Msg   string // the rule, with a fix when one is obvious

	err   error        // the underlying error, for errors.Is
	order int          // position of the object in the apply, for sorting
	other resource.Ref // the other object of a pairwise conflict
	refTo resource.Ref // the object a failed reference names
}

// Error renders the problem as
// `AnycastService "edge-dns": spec.prefixes[1] "203.0.113.0/23": overlaps AnycastService "edge-http"`.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Ref.Kind == 0 {
		b.WriteString("object")
	} else {
		b.WriteString(e.Ref.String())
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		if e.Value != "" {
			b.WriteString(" " + resource.Quote(e.Value))
		}
		b.WriteString(": ")
	} else if e.Value != "" {
		b.WriteString(resource.Quote(e.Value) + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the error the rule was checked with, if any.
func (e *FieldError) Unwrap() error { return e.err }

// Errors is every problem found in one request, sorted by the order of the
// objects given and then by path.
type Errors []*FieldError

// Error joins the problems, one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each FieldError to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sortErrors orders errors by object order, then path (indices compared as
// numbers), keeping the order they were found in otherwise.
func sortErrors(es Errors) {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].order != es[j].order {
			return es[i].order < es[j].order
		}
		return pathLess(es[i].Path, es[j].Path)
	})
}

// asError returns nil for no errors, so that callers never see a typed nil.
func (es Errors) asError() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// pathLess compares paths like strings, except that runs of digits compare
// as numbers: "spec.prefixes[2]" sorts before "spec.prefixes[10]".
func pathLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// ruleError is a message that matches a sentinel error under errors.Is
// without repeating the sentinel's text.
type ruleError struct {
	kind error
	msg  string
}

func (e *ruleError) Error() string { return e.msg }
func (e *ruleError) Unwrap() error { return e.kind }
