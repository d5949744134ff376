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

// objectKeys are the document keys outside the kind's message.
var objectKeys = map[string]bool{"apiVersion": true, "kind": true}

// decodeObject decodes one object document and appends it to out, or
// records its problems.
func decodeObject(out []decoded, errs *errorList, n *yaml.Node, at decoded) []decoded {
	at.line = n.Line
	fail := func(line int, ref *resource.Ref, path string, err error) {
		errs.add(&Error{Source: at.source, Document: at.doc, Item: at.item, Line: line, Object: ref, Path: path, Err: err})
	}
	if n.Kind != yaml.MappingNode {
		fail(n.Line, nil, "", fmt.Errorf("want an object with apiVersion, kind, metadata and spec, got %s", describe(n)))
		return out
	}
	kind, ok := documentKind(n, func(line int, path string, err error) { fail(line, nil, path, err) })
	if !ok {
		return out
	}
	ref := resource.Ref{Kind: kind, Name: metadataName(n)}
	var refp *resource.Ref
	if ref.Name != "" {
		refp = &ref
	}
	msg := resource.NewOfKind(kind)
	w := newWalker()
	w.message(n, msg.ProtoReflect(), "", objectKeys)
	for _, p := range w.problems {
		fail(p.line, refp, p.path, p.err)
	}
	if len(w.problems) > 0 {
		return out
	}
	if ref.Name == "" {
		fail(n.Line, nil, "metadata.name", errors.New("required: every object needs a name"))
		return out
	}
	at.obj, at.ref = resource.Wrap(msg), ref
	return append(out, at)
}

// documentKind checks apiVersion and returns the document's kind.
func documentKind(n *yaml.Node, fail func(line int, path string, err error)) (v1.Kind, bool) {
	ok := true
	switch av := mappingValue(n, "apiVersion"); {
	case av == nil:
		fail(n.Line, "apiVersion", fmt.Errorf("required: want %q", resource.APIVersion))
		ok = false
	case av.Kind != yaml.ScalarNode || av.Value != resource.APIVersion:
		fail(av.Line, "apiVersion", fmt.Errorf("unknown version %s: want %q", describe(av), resource.APIVersion))
		ok = false
	}
	kn := mappingValue(n, "kind")
	if kn == nil {
		fail(n.Line, "kind", fmt.Errorf("required: want one of %s", kindNames()))
		return 0, false
	}
	kind, known := resource.KindFromName(kn.Value)
	if kn.Kind != yaml.ScalarNode || !known {
		err := fmt.Errorf("unknown kind %s: want one of %s", describe(kn), kindNames())
		if k, perr := resource.ParseKind(kn.Value); kn.Kind == yaml.ScalarNode && perr == nil {
			err = fmt.Errorf("unknown kind %q (did you mean %q?)", kn.Value, resource.KindName(k))
		}
		fail(kn.Line, "kind", err)
		return 0, false
	}
	return kind, ok
}

func kindNames() string {
	var names []string
	for _, k := range resource.Kinds() {
		names = append(names, resource.KindName(k))
	}
	return strings.Join(names, ", ")
}

// metadataName finds metadata.name before the full walk, so that every
// problem in the document can name its object.
func metadataName(n *yaml.Node) string {
	md := mappingValue(n, "metadata")
	if md == nil {
		return ""
	}
	name := mappingValue(md, "name")
	if name == nil || name.Kind != yaml.ScalarNode || isNull(name) {
		return ""
	}
	return name.Value
}

// mappingValue returns the value under key in a mapping node, resolving
// aliases, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Kind == yaml.ScalarNode && n.Content[i].Value == key {
			v := n.Content[i+1]
			for v.Kind == yaml.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			return v
		}
	}
	return nil
}

// checkDuplicates rejects an object declared twice: which one should win
// is not for the decoder to guess.
func checkDuplicates(ds []decoded, errs *errorList) {
	first := map[resource.Ref]decoded{}
	for _, d := range ds {
		if f, ok := first[d.ref]; ok {
			ref := d.ref
			errs.add(&Error{Source: d.source, Document: d.doc, Item: d.item, Line: d.line, Object: &ref,
				Err: fmt.Errorf("declared again: first declared in %s", f.where())})
			continue
		}
		first[d.ref] = d
	}
}

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
