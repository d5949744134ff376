package manifest

import (
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
)

// fieldError is a problem at one field of a document.
type fieldError struct {
	line int
	path string
	err  error
}

// walker fills a protobuf message from a YAML node tree, checking every
// field against the message descriptor. It records every problem it finds
// rather than stopping at the first.
type walker struct {
	problems []fieldError
	// budget counts down the nodes the document may still visit; aliases
	// can make a tree much larger than its text.
	budget int
}

func newWalker() *walker { return &walker{budget: maxNodesPerDocument} }

func (w *walker) failf(n *yaml.Node, path, format string, args ...any) {
	w.problems = append(w.problems, fieldError{line: n.Line, path: path, err: fmt.Errorf(format, args...)})
}

// enter resolves aliases and charges the node to the budget; nil means the
// budget is spent and the walk must stop.
func (w *walker) enter(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	w.budget--
	switch {
	case w.budget == 0:
		w.failf(n, "", "the document expands to more than %d values (through YAML aliases?)", maxNodesPerDocument)
		return nil
	case w.budget < 0:
		return nil
	}
	return n
}

// message fills m from a mapping node. Keys in skip are left to the caller.
func (w *walker) message(n *yaml.Node, m protoreflect.Message, path string, skip map[string]bool) {
	if n = w.enter(n); n == nil || !w.expectKind(n, yaml.MappingNode, path) {
		return
	}
	md := m.Descriptor()
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		key, ok := w.key(kn, path, seen)
		if !ok || skip[key] {
			continue
		}
		fd := md.Fields().ByJSONName(key)
		if fd == nil {
			w.problems = append(w.problems, fieldError{line: kn.Line, path: path, err: unknownField(md, key)})
			continue
		}
		w.field(vn, m, fd, joinPath(path, key))
	}
}

// key reads a mapping key, rejecting non-string keys, merge keys and
// duplicates.
func (w *walker) key(kn *yaml.Node, path string, seen map[string]bool) (string, bool) {
	if kn.Kind != yaml.ScalarNode {
		w.failf(kn, path, "want a field name, got %s", describe(kn))
		return "", false
	}
	if kn.ShortTag() == "!!merge" {
		w.failf(kn, path, "YAML merge keys (<<) are not supported: write the fields out")
		return "", false
	}
	if seen[kn.Value] {
		w.failf(kn, path, "duplicate field %q", kn.Value)
		return "", false
	}
	seen[kn.Value] = true
	return kn.Value, true
}

func (w *walker) field(n *yaml.Node, m protoreflect.Message, fd protoreflect.FieldDescriptor, path string) {
	if n = w.enter(n); n == nil || isNull(n) {
		return
	}
	switch {
	case fd.IsMap():
		w.mapField(n, m.Mutable(fd).Map(), fd, path)
	case fd.IsList():
		w.listField(n, m.Mutable(fd).List(), fd, path)
	default:
		if v, ok := w.single(n, fd, func() protoreflect.Value { return m.NewField(fd) }, path); ok {
			m.Set(fd, v)
		}
	}
}

func (w *walker) listField(n *yaml.Node, l protoreflect.List, fd protoreflect.FieldDescriptor, path string) {
	if !w.expectKind(n, yaml.SequenceNode, path) {
		return
	}
	for i, en := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		if en = w.enter(en); en == nil {
			return
		}
		if isNull(en) {
			w.failf(en, p, "want a value, got null")
			continue
		}
		if v, ok := w.single(en, fd, l.NewElement, p); ok {
			l.Append(v)
		}
	}
}

func (w *walker) mapField(n *yaml.Node, mp protoreflect.Map, fd protoreflect.FieldDescriptor, path string) {
	if !w.expectKind(n, yaml.MappingNode, path) {
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		key, ok := w.key(kn, path, seen)
		if !ok {
			continue
		}
		p := path + "[" + strconv.Quote(key) + "]"
		k, ok := w.scalar(kn, fd.MapKey(), p)
		if !ok {
			continue
		}
		if vn = w.enter(vn); vn == nil {
			return
		}
		if v, ok := w.single(vn, fd.MapValue(), mp.NewValue, p); ok {
			mp.Set(k.MapKey(), v)
		}
	}
}

var durationName = (&durationpb.Duration{}).ProtoReflect().Descriptor().FullName()

// single converts one value: a message, a duration or a scalar. fresh makes
// the empty message a message value is decoded into.
func (w *walker) single(n *yaml.Node, fd protoreflect.FieldDescriptor, fresh func() protoreflect.Value, path string) (protoreflect.Value, bool) {
	if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
		return w.scalar(n, fd, path)
	}
	if fd.Message().FullName() == durationName {
		if !w.expectKind(n, yaml.ScalarNode, path) {
			return protoreflect.Value{}, false
		}
		d, err := parseDuration(n.Value)
		if err != nil {
			w.failf(n, path, "%w", err)
			return protoreflect.Value{}, false
		}
		return protoreflect.ValueOfMessage(durationpb.New(d).ProtoReflect()), true
	}
	if !w.expectKind(n, yaml.MappingNode, path) {
		return protoreflect.Value{}, false
	}
	v := fresh()
	w.message(n, v.Message(), path, nil)
	return v, true
}

// scalar converts a scalar node to the field's kind.
func (w *walker) scalar(n *yaml.Node, fd protoreflect.FieldDescriptor, path string) (protoreflect.Value, bool) {
	v, err := scalarValue(n, fd)
	if err != nil {
		w.failf(n, path, "%w", err)
		return protoreflect.Value{}, false
	}
	return v, true
}

// expectKind reports whether n is of kind k, recording the problem if not.
func (w *walker) expectKind(n *yaml.Node, k yaml.Kind, path string) bool {
	if n.Kind == k {
		return true
	}
	switch k {
	case yaml.MappingNode:
		w.failf(n, path, "want a mapping of fields, got %s", describe(n))
	case yaml.SequenceNode:
		hint := ""
		if n.Kind == yaml.ScalarNode {
			hint = fmt.Sprintf(" (for a single value write [%s])", n.Value)
		}
		w.failf(n, path, "want a list, got %s%s", describe(n), hint)
	default:
		w.failf(n, path, "want a single value, got %s", describe(n))
	}
	return false
}

// describe names what a node is, for errors: its text when it is a scalar.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
