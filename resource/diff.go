package resource

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// versionFields are the metadata fields the store sets on read; they say
// where an object is stored, not what it is.
var versionFields = map[protoreflect.FullName]bool{
	"anycast.v1.ObjectMeta.resource_version": true,
	"anycast.v1.ObjectMeta.create_revision":  true,
}

// Diff lists the fields that differ between two objects, one line per
// changed leaf: "- spec.peers[0].peerAsn: 64500" for the old value and
// "+ spec.peers[0].peerAsn: 64501" for the new one. Paths use the
// lowerCamelCase JSON names, relative to the kind's message; lines follow
// field order, list elements by index and map entries by key. A field that is
// unset (or zero, for fields without presence) on one side has no line on
// that side. Metadata versions are ignored. Equal objects give "".
//
// A nil object is an absent one: Diff(nil, o) lists every set field of o.
func Diff(old, new *v1.Object) string {
	var d differ
	a, b := Inner(old), Inner(new)
	switch {
	case a == nil && b == nil:
	case a == nil:
		d.message(emptyOf(b), b.ProtoReflect())
	case b == nil:
		d.message(a.ProtoReflect(), emptyOf(a))
	case a.ProtoReflect().Descriptor() != b.ProtoReflect().Descriptor():
		d.message(a.ProtoReflect(), emptyOf(a))
		d.message(emptyOf(b), b.ProtoReflect())
	default:
		d.message(a.ProtoReflect(), b.ProtoReflect())
	}
	return d.out.String()
}

// Equal reports whether two objects are the same, ignoring metadata
// versions.
func Equal(a, b *v1.Object) bool {
	return proto.Equal(withoutVersions(a), withoutVersions(b))
}

// withoutVersions returns o, or a copy of it with the metadata versions
// cleared when it has any.
func withoutVersions(o *v1.Object) *v1.Object {
	if m := Meta(o); m.GetResourceVersion() == 0 && m.GetCreateRevision() == 0 {
		return o
	}
	c := proto.Clone(o).(*v1.Object)
	m := Meta(c)
	m.ResourceVersion, m.CreateRevision = 0, 0
	return c
}

func emptyOf(m proto.Message) protoreflect.Message {
	return m.ProtoReflect().Type().Zero()
}

// differ collects diff lines. path is the path of the value being
// compared; it grows and shrinks as the walk descends and returns, so that
// a path is only made into a string for a line.
type differ struct {
	out  strings.Builder
	path []byte
}

func (d *differ) line(sign byte, value string) {
	d.out.WriteByte(sign)
	d.out.WriteByte(' ')
	d.out.Write(d.path)
	d.out.WriteString(": ")
	d.out.WriteString(value)
	d.out.WriteByte('\n')
}

// message diffs two messages of one type; either may be an empty read-only
// message standing for an absent one.
func (d *differ) message(a, b protoreflect.Message) {
	fields := a.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if versionFields[fd.FullName()] {
			continue
		}
		if !a.Has(fd) && !b.Has(fd) {
			continue
		}
		n := len(d.path)
		if n > 0 {
			d.path = append(d.path, '.')
		}
		d.path = append(d.path, fd.JSONName()...)
		switch {
		case fd.IsList():
			d.list(fd, a.Get(fd).List(), b.Get(fd).List())
		case fd.IsMap():
			d.mapField(fd, a.Get(fd).Map(), b.Get(fd).Map())
		default:
			d.value(fd, a.Has(fd), b.Has(fd), a.Get(fd), b.Get(fd))
		}
		d.path = d.path[:n]
	}
}

func (d *differ) list(fd protoreflect.FieldDescriptor, a, b protoreflect.List) {
	n := len(d.path)
	for i := 0; i < max(a.Len(), b.Len()); i++ {
		var va, vb protoreflect.Value
		hasA, hasB := i < a.Len(), i < b.Len()
		if hasA {
			va = a.Get(i)
		}
		if hasB {
			vb = b.Get(i)
		}
		d.path = append(d.path, '[')
		d.path = strconv.AppendInt(d.path, int64(i), 10)
		d.path = append(d.path, ']')
		d.value(fd, hasA, hasB, va, vb)
		d.path = d.path[:n]
	}
}

func (d *differ) mapField(fd protoreflect.FieldDescriptor, a, b protoreflect.Map) {
	keys := map[string]protoreflect.MapKey{}
	collect := func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys[mapKeyString(k)] = k
		return true
	}
	a.Range(collect)
	b.Range(collect)
	names := make([]string, 0, len(keys))
	for n := range keys {
		names = append(names, n)
	}
	sort.Strings(names)
	n := len(d.path)
	for _, name := range names {
		k := keys[name]
		d.path = append(append(append(d.path, '['), name...), ']')
		d.value(fd.MapValue(), a.Has(k), b.Has(k), a.Get(k), b.Get(k))
		d.path = d.path[:n]
	}
}

// value diffs one singular value (a field, a list element or a map value).
// has* tells whether the value is present on that side.
func (d *differ) value(fd protoreflect.FieldDescriptor, hasA, hasB bool, a, b protoreflect.Value) {
	if fd.Message() != nil && !isLeafMessage(fd.Message()) {
		ma, mb := emptyMessage(fd, hasA, a), emptyMessage(fd, hasB, b)
		before := d.out.Len()
		d.message(ma, mb)
		if d.out.Len() == before && hasA != hasB {
			// Present but empty on one side: presence is the change.
			if hasA {
				d.line('-', "{}")
			} else {
				d.line('+', "{}")
			}
		}
		return
	}
	if hasA == hasB && (!hasA || scalarEqual(fd, a, b)) {
		return
	}
	if hasA {
		d.line('-', format(fd, a))
	}
	if hasB {
		d.line('+', format(fd, b))
	}
}

// emptyMessage returns the message in v, or an empty read-only one of the
// field's type when it is absent.
func emptyMessage(fd protoreflect.FieldDescriptor, has bool, v protoreflect.Value) protoreflect.Message {
	if has {
		return v.Message()
	}
	md := fd.Message()
	if mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName()); err == nil {
		return mt.Zero()
	}
	return dynamicpb.NewMessageType(md).Zero()
}

// isLeafMessage reports message types shown as one value, not as fields.
func isLeafMessage(md protoreflect.MessageDescriptor) bool {
	return md.FullName() == "google.protobuf.Duration"
}

func scalarEqual(fd protoreflect.FieldDescriptor, a, b protoreflect.Value) bool {
	if fd.Message() != nil {
		return proto.Equal(a.Message().Interface(), b.Message().Interface())
	}
	return a.Equal(b)
}

func format(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return strconv.Quote(v.String())
	case protoreflect.BytesKind:
		return base64.StdEncoding.EncodeToString(v.Bytes())
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return strconv.Itoa(int(v.Enum()))
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case protoreflect.MessageKind, protoreflect.GroupKind:
		if dur, ok := v.Message().Interface().(*durationpb.Duration); ok {
			return dur.AsDuration().String()
		}
		return fmt.Sprint(v.Message().Interface())
	}
	return v.String()
}

func mapKeyString(k protoreflect.MapKey) string {
	if s, ok := k.Interface().(string); ok {
		return strconv.Quote(s)
	}
	return k.String()
}
