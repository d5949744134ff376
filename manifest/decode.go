package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"go.yaml.in/yaml/v3"
)

// Decode reads every object in a stream of YAML documents separated by
// "---". Empty documents are skipped. A document may also hold a list of
// objects, as a JSON array written by Encode does. source names the input in
// errors. Decode checks the structure and the types of every field, not
// whether the values make sense: that is the controller's validation.
//
// The error, when not nil, joins one *Error per problem found (up to a
// limit), and no objects are returned.
func Decode(r io.Reader, source string) ([]*v1.Object, error) {
	ds, err := decode(r, source)
	if err != nil {
		return nil, err
	}
	return objectsOf(ds), nil
}

// decoded is one object and where it was read.
type decoded struct {
	obj    *v1.Object
	ref    resource.Ref
	source string
	doc    int
	item   int
	line   int
}

func (d decoded) where() string {
	s := fmt.Sprintf("%s document %d", d.source, d.doc)
	if d.item > 0 {
		s += fmt.Sprintf(" item %d", d.item)
	}
	return s
}

func objectsOf(ds []decoded) []*v1.Object {
	out := make([]*v1.Object, len(ds))
	for i, d := range ds {
		out[i] = d.obj
	}
	return out
}

func decode(r io.Reader, source string) ([]decoded, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInputBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", source, err)
	}
	if len(data) > MaxInputBytes {
		return nil, &Error{Source: source, Err: fmt.Errorf("input is larger than %d bytes: split it into several files", MaxInputBytes)}
	}
	var (
		out  []decoded
		errs errorList
		doc  int
	)
	for _, raw := range splitDocuments(data) {
		if len(raw.data) > MaxDocumentBytes {
			doc++
			errs.add(&Error{Source: source, Document: doc, Line: raw.firstLine,
				Err: fmt.Errorf("document is larger than %d bytes", MaxDocumentBytes)})
			continue
		}
		root, err := parseDocument(raw)
		if root == nil && err == nil {
			continue
		}
		doc++
		if err != nil {
			line, msg := yamlErrorLine(err, raw.firstLine)
			errs.add(&Error{Source: source, Document: doc, Line: line, Err: msg})
			continue
		}
		if root.Kind == yaml.SequenceNode {
			for i, item := range root.Content {
				out = decodeObject(out, &errs, item, decoded{source: source, doc: doc, item: i + 1})
			}
			continue
		}
		out = decodeObject(out, &errs, root, decoded{source: source, doc: doc})
	}
	checkDuplicates(out, &errs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// parseDocument parses one raw document; nil without an error means the
// document is empty.
func parseDocument(raw rawDocument) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw.data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	// Text after an end marker ("...") is not cut by splitDocuments; the
	// decoder would silently leave it unread.
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err == nil {
			err = fmt.Errorf("yaml: line %d: a document follows the end marker \"...\": start it with \"---\"", extra.Line)
		}
		return nil, err
	}
	shiftLines(&doc, raw.firstLine-1)
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, nil
	}
	return doc.Content[0], nil
}

// shiftLines makes node lines count from the start of the input rather than
// the start of the document.
func shiftLines(n *yaml.Node, by int) {
	if n.Line > 0 {
		n.Line += by
	}
	for _, c := range n.Content {
		shiftLines(c, by)
	}
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlErrorLine takes the line number out of a YAML syntax error and makes
// it count from the start of the input.
func yamlErrorLine(err error, firstLine int) (int, error) {
	msg := err.Error()
	m := yamlLineRE.FindStringSubmatch(msg)
	if m == nil {
		return firstLine, errors.New(strings.TrimPrefix(msg, "yaml: "))
	}
	line, _ := strconv.Atoi(m[1])
	return line + firstLine - 1, errors.New(m[2])
}
