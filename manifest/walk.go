package manifest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

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

func scalarValue(n *yaml.Node, fd protoreflect.FieldDescriptor) (protoreflect.Value, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
			return protoreflect.ValueOfBool(strings.EqualFold(n.Value, "true")), nil
		}
		return protoreflect.Value{}, fmt.Errorf("want true or false, got %s", describe(n))
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		i, err := parseInt(n, 32)
		return protoreflect.ValueOfInt32(int32(i)), err
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		i, err := parseInt(n, 64)
		return protoreflect.ValueOfInt64(i), err
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		u, err := parseUint(n, 32)
		return protoreflect.ValueOfUint32(uint32(u)), err
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		u, err := parseUint(n, 64)
		return protoreflect.ValueOfUint64(u), err
	case protoreflect.FloatKind:
		f, err := parseFloat(n, 32)
		return protoreflect.ValueOfFloat32(float32(f)), err
	case protoreflect.DoubleKind:
		f, err := parseFloat(n, 64)
		return protoreflect.ValueOfFloat64(f), err
	case protoreflect.StringKind:
		if n.Kind != yaml.ScalarNode {
			return protoreflect.Value{}, fmt.Errorf("want a string, got %s", describe(n))
		}
		return protoreflect.ValueOfString(n.Value), nil
	case protoreflect.BytesKind:
		if n.Kind != yaml.ScalarNode {
			return protoreflect.Value{}, fmt.Errorf("want base64 bytes, got %s", describe(n))
		}
		b, err := base64.StdEncoding.DecodeString(n.Value)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("want base64 bytes, got %q: %w", n.Value, err)
		}
		return protoreflect.ValueOfBytes(b), nil
	case protoreflect.EnumKind:
		if n.Kind != yaml.ScalarNode {
			return protoreflect.Value{}, fmt.Errorf("want one of the names of %s, got %s", fd.Enum().Name(), describe(n))
		}
		e, err := parseEnum(fd.Enum(), n.Value)
		return protoreflect.ValueOfEnum(e), err
	}
	return protoreflect.Value{}, fmt.Errorf("fields of kind %s are not supported in manifests", fd.Kind())
}

// numberText returns the text of a number: an integer or float scalar, or
// a string, as protobuf JSON quotes 64-bit integers.
func numberText(n *yaml.Node) (string, error) {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!int", "!!float", "!!str":
			return n.Value, nil
		}
	}
	return "", fmt.Errorf("want a number, got %s", describe(n))
}

func parseInt(n *yaml.Node, bits int) (int64, error) {
	s, err := numberText(n)
	if err != nil {
		return 0, err
	}
	i, err := strconv.ParseInt(s, 0, bits)
	return i, numberError(s, err, fmt.Sprintf("%d to %d", int64(-1)<<(bits-1), int64(1)<<(bits-1)-1))
}

func parseUint(n *yaml.Node, bits int) (uint64, error) {
	s, err := numberText(n)
	if err != nil {
		return 0, err
	}
	u, err := strconv.ParseUint(s, 0, bits)
	if err != nil && strings.HasPrefix(s, "-") {
		if _, ierr := strconv.ParseInt(s, 0, 64); ierr == nil {
			err = &strconv.NumError{Func: "ParseUint", Num: s, Err: strconv.ErrRange}
		}
	}
	return u, numberError(s, err, fmt.Sprintf("0 to %d", uint64(math.MaxUint64)>>(64-bits)))
}

func numberError(s string, err error, valid string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, strconv.ErrRange) {
		return fmt.Errorf("%q is out of range: want %s", s, valid)
	}
	if _, ferr := strconv.ParseFloat(s, 64); ferr == nil {
		return fmt.Errorf("want a whole number, got %q", s)
	}
	return fmt.Errorf("want a number, got %q", s)
}

// yamlFloats are YAML's spellings of the special floats.
var yamlFloats = map[string]float64{
	".nan": math.NaN(), ".NaN": math.NaN(), ".NAN": math.NaN(),
	".inf": math.Inf(1), ".Inf": math.Inf(1), ".INF": math.Inf(1),
	"+.inf": math.Inf(1), "+.Inf": math.Inf(1), "+.INF": math.Inf(1),
	"-.inf": math.Inf(-1), "-.Inf": math.Inf(-1), "-.INF": math.Inf(-1),
}

func parseFloat(n *yaml.Node, bits int) (float64, error) {
	s, err := numberText(n)
	if err != nil {
		return 0, err
	}
	if f, ok := yamlFloats[s]; ok {
		return f, nil
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		return 0, fmt.Errorf("want a number, got %q", s)
	}
	return f, nil
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

// unknownField explains an unknown field, suggesting the field meant when
// the key is the protobuf name or a near miss of a field's name.
func unknownField(md protoreflect.MessageDescriptor, key string) error {
	fields := md.Fields()
	if fd := fields.ByName(protoreflect.Name(key)); fd != nil {
		return fmt.Errorf("unknown field %q (did you mean %q?)", key, fd.JSONName())
	}
	best, bestDist := "", 3
	for i := range fields.Len() {
		name := fields.Get(i).JSONName()
		if strings.EqualFold(name, key) {
			return fmt.Errorf("unknown field %q (did you mean %q?)", key, name)
		}
		if d := editDistance(strings.ToLower(key), strings.ToLower(name)); d < bestDist && d < len(name)/2 {
			best, bestDist = name, d
		}
	}
	if best != "" {
		return fmt.Errorf("unknown field %q (did you mean %q?)", key, best)
	}
	return fmt.Errorf("unknown field %q", key)
}

// editDistance is the Levenshtein distance between two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
