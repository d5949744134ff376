package cli

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Values describe shows for fields without a value.
const (
	describeUnset = "<unset>"
	describeNone  = "<none>"
)

// detail is one line of a description: a label and a value, or a label
// over nested lines.
type detail struct {
	label  string
	value  string
	nested []string
}

// writeDescription prints every field of an object for people: the kind and
// metadata first, then the spec, field by field, with unset fields shown as
// such.
func writeDescription(w io.Writer, o *v1.Object) error {
	kind := resource.KindOf(o)
	if kind == v1.Kind_KIND_UNSPECIFIED {
		return fmt.Errorf("the controller returned an empty object")
	}
	inner := resource.Inner(o).ProtoReflect()
	fields := inner.Descriptor().Fields()
	details := []detail{{label: "Kind", value: resource.KindName(kind)}}
	details = append(details, messageDetails(resource.Meta(o).ProtoReflect())...)
	spec := fields.ByName("spec")
	details = append(details, fieldDetail(inner, spec))
	_, err := io.WriteString(w, strings.Join(renderDetails(details), "\n")+"\n")
	return err
}

// messageDetails describes every field of a message in declaration order.
func messageDetails(m protoreflect.Message) []detail {
	fields := m.Descriptor().Fields()
	out := make([]detail, 0, fields.Len())
	for i := range fields.Len() {
		out = append(out, fieldDetail(m, fields.Get(i)))
	}
	return out
}

func fieldDetail(m protoreflect.Message, fd protoreflect.FieldDescriptor) detail {
	d := detail{label: fieldLabel(fd.JSONName())}
	v := m.Get(fd)
	switch {
	case fd.IsMap():
		var pairs []string
		v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			pairs = append(pairs, k.String()+"="+scalarText(fd.MapValue(), mv))
			return true
		})
		sort.Strings(pairs)
		d.value = joinOr(pairs, describeNone)
	case fd.IsList() && isPlainMessage(fd):
		l := v.List()
		if l.Len() == 0 {
			d.value = describeNone
		}
		for i := range l.Len() {
			lines := renderDetails(messageDetails(l.Get(i).Message()))
			for j, line := range lines {
				prefix := "  "
				if j == 0 {
					prefix = "- "
				}
				d.nested = append(d.nested, prefix+line)
			}
		}
	case fd.IsList():
		var items []string
		for i := range v.List().Len() {
			items = append(items, scalarText(fd, v.List().Get(i)))
		}
		d.value = joinOr(items, describeNone)
	case isPlainMessage(fd):
		if !m.Has(fd) {
			d.value = describeUnset
			break
		}
		d.nested = renderDetails(messageDetails(v.Message()))
		if len(d.nested) == 0 {
			d.value = describeNone
		}
	case !m.Has(fd) && fd.Kind() != protoreflect.BoolKind:
		d.value = describeUnset
	default:
		d.value = scalarText(fd, v)
	}
	return d
}

var durationFullName = (&durationpb.Duration{}).ProtoReflect().Descriptor().FullName()

// renderDetails lays out details with their values aligned, nested lines
// indented under their label.
func renderDetails(ds []detail) []string {
	width := 0
	for _, d := range ds {
		if d.nested == nil {
			width = max(width, len(d.label)+1)
		}
	}
	var lines []string
	for _, d := range ds {
		if d.nested != nil {
			lines = append(lines, d.label+":")
			for _, n := range d.nested {
				lines = append(lines, "  "+n)
			}
			continue
		}
		lines = append(lines, fmt.Sprintf("%-*s  %s", width, d.label+":", d.value))
	}
	return lines
}

func isPlainMessage(fd protoreflect.FieldDescriptor) bool {
	return fd.Kind() == protoreflect.MessageKind && fd.Message().FullName() != durationFullName
}

// scalarText shows a value as the manifests write it.
func scalarText(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		return manifest.ShortEnumName(fd.Enum(), v.Enum())
	case protoreflect.MessageKind:
		if d, ok := v.Message().Interface().(*durationpb.Duration); ok {
			return manifest.FormatDuration(d.AsDuration())
		}
	case protoreflect.DoubleKind, protoreflect.FloatKind:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	}
	return v.String()
}

func joinOr(items []string, empty string) string {
	if len(items) == 0 {
		return empty
	}
	return strings.Join(items, ", ")
}

// labelWords are the words a field label spells in capitals.
var labelWords = map[string]string{
	"asn": "ASN", "id": "ID", "ttl": "TTL", "med": "MED", "dns": "DNS", "ipv4": "IPv4", "ipv6": "IPv6", "https": "HTTPS",
	"as": "AS", "soa": "SOA", "mname": "MNAME", "rname": "RNAME", "rcode": "RCODE",
}

// fieldLabel turns a JSON field name into a label: "localAsn" is "Local ASN".
func fieldLabel(jsonName string) string {
	var words []string
	start := 0
	for i, r := range jsonName {
		if i > 0 && unicode.IsUpper(r) {
			words = append(words, jsonName[start:i])
			start = i
		}
	}
	words = append(words, jsonName[start:])
	for i, w := range words {
		if up, ok := labelWords[strings.ToLower(w)]; ok {
			words[i] = up
			continue
		}
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}
