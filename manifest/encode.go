package manifest

import (
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Formats Encode writes.
const (
	FormatYAML = "yaml"
	FormatJSON = "json"
)

// Encode writes objects in format "yaml", one document each separated by
// "---", or "json", one array of objects. Both read back with Decode.
// Fields at their zero value are left out, as protobuf JSON does.
func Encode(w io.Writer, objs []*v1.Object, format string) error {
	nodes := make([]*yaml.Node, len(objs))
	for i, o := range objs {
		n, err := objectNode(o)
		if err != nil {
			return fmt.Errorf("encode object %d: %w", i+1, err)
		}
		nodes[i] = n
	}
	switch format {
	case FormatYAML:
		return writeYAML(w, nodes)
	case FormatJSON:
		return writeJSON(w, &yaml.Node{Kind: yaml.SequenceNode, Content: nodes})
	}
	return fmt.Errorf("unknown format %q: want %q or %q", format, FormatYAML, FormatJSON)
}

// EncodeObject writes one object as Encode does, but in JSON as the object
// itself rather than an array of one.
func EncodeObject(w io.Writer, o *v1.Object, format string) error {
	if format != FormatJSON {
		return Encode(w, []*v1.Object{o}, format)
	}
	n, err := objectNode(o)
	if err != nil {
		return fmt.Errorf("encode object: %w", err)
	}
	return writeJSON(w, n)
}

func writeYAML(w io.Writer, nodes []*yaml.Node) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	for _, n := range nodes {
		if err := enc.Encode(n); err != nil {
			return fmt.Errorf("write yaml: %w", err)
		}
	}
	return enc.Close()
}

// objectNode builds the document of one object: apiVersion and kind, then
// the fields of the kind's message (metadata, spec).
func objectNode(o *v1.Object) (*yaml.Node, error) {
	kind := resource.KindOf(o)
	if kind == v1.Kind_KIND_UNSPECIFIED {
		return nil, fmt.Errorf("the object holds no resource")
	}
	n := &yaml.Node{Kind: yaml.MappingNode}
	addField(n, "apiVersion", stringNode(resource.APIVersion))
	addField(n, "kind", stringNode(resource.KindName(kind)))
	n.Content = append(n.Content, messageNode(resource.Inner(o).ProtoReflect()).Content...)
	return n, nil
}

// messageNode renders the set fields of a message in declaration order.
func messageNode(m protoreflect.Message) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if !m.Has(fd) {
			continue
		}
		v := m.Get(fd)
		switch {
		case fd.IsMap():
			addField(n, fd.JSONName(), mapNode(v.Map(), fd))
		case fd.IsList():
			l := v.List()
			seq := &yaml.Node{Kind: yaml.SequenceNode}
			for j := range l.Len() {
				seq.Content = append(seq.Content, valueNode(l.Get(j), fd))
			}
			addField(n, fd.JSONName(), seq)
		default:
			addField(n, fd.JSONName(), valueNode(v, fd))
		}
	}
	return n
}

func mapNode(mp protoreflect.Map, fd protoreflect.FieldDescriptor) *yaml.Node {
	type entry struct{ k, v *yaml.Node }
	var entries []entry
	mp.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		entries = append(entries, entry{valueNode(k.Value(), fd.MapKey()), valueNode(v, fd.MapValue())})
		return true
	})
	sort.Slice(entries, func(i, j int) bool { return entries[i].k.Value < entries[j].k.Value })
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, e := range entries {
		n.Content = append(n.Content, e.k, e.v)
	}
	return n
}

// valueNode renders one value of a field: scalars in their friendly form,
// durations as Go durations, messages as mappings.
func valueNode(v protoreflect.Value, fd protoreflect.FieldDescriptor) *yaml.Node {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		m := v.Message()
		if m.Descriptor().FullName() == durationName {
			d := &durationpb.Duration{
				Seconds: m.Get(m.Descriptor().Fields().ByName("seconds")).Int(),
				Nanos:   int32(m.Get(m.Descriptor().Fields().ByName("nanos")).Int()),
			}
			return stringNode(FormatDuration(d.AsDuration()))
		}
		return messageNode(m)
	case protoreflect.BoolKind:
		return plainNode(strconv.FormatBool(v.Bool()))
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return plainNode(strconv.FormatInt(v.Int(), 10))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return plainNode(strconv.FormatUint(v.Uint(), 10))
	case protoreflect.FloatKind:
		return plainNode(formatFloat(v.Float(), 32))
	case protoreflect.DoubleKind:
		return plainNode(formatFloat(v.Float(), 64))
	case protoreflect.StringKind:
		return stringNode(v.String())
	case protoreflect.BytesKind:
		return stringNode(base64.StdEncoding.EncodeToString(v.Bytes()))
	case protoreflect.EnumKind:
		if fd.Enum().Values().ByNumber(v.Enum()) == nil {
			return plainNode(strconv.Itoa(int(v.Enum())))
		}
		return stringNode(ShortEnumName(fd.Enum(), v.Enum()))
	}
	return stringNode(v.String())
}

func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return ".nan"
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

func addField(n *yaml.Node, key string, v *yaml.Node) {
	n.Content = append(n.Content, stringNode(key), v)
}

// stringNode is a string; the YAML encoder quotes it when it would read
// back as another type.
func stringNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// plainNode is a number or a bool, written without quotes.
func plainNode(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }
