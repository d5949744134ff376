// Package resource names the kinds of desired state and gives uniform access
// to objects of any kind: their metadata, references, an in-memory state set
// and field-level diffs.
package resource

import (
	"fmt"
	"sort"
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

// APIVersion is the apiVersion of every document this version understands.
const APIVersion = "anycast.anyctl.io/v1"

// kindInfo describes one kind: its YAML name, its plural for the CLI and the
// aliases the CLI accepts.
type kindInfo struct {
	kind    v1.Kind
	name    string
	plural  string
	aliases []string
}

var kinds = []kindInfo{
	{v1.Kind_KIND_POP, "Pop", "pops", []string{"pop", "pops"}},
	{v1.Kind_KIND_ANYCAST_SERVICE, "AnycastService", "anycastservices", []string{"anycastservice", "anycastservices", "service", "services", "svc"}},
	{v1.Kind_KIND_ORIGIN, "Origin", "origins", []string{"origin", "origins"}},
	{v1.Kind_KIND_GSLB_ZONE, "GslbZone", "gslbzones", []string{"gslbzone", "gslbzones", "zone", "zones"}},
	{v1.Kind_KIND_GSLB_RECORD, "GslbRecord", "gslbrecords", []string{"gslbrecord", "gslbrecords", "record", "records"}},
}

// Kinds lists every kind in dependency order: a kind may refer only to kinds
// before it (records refer to zones, origins and PoPs; services to PoPs).
func Kinds() []v1.Kind {
	out := make([]v1.Kind, len(kinds))
	for i, k := range kinds {
		out[i] = k.kind
	}
	return out
}

func info(k v1.Kind) (kindInfo, bool) {
	for _, ki := range kinds {
		if ki.kind == k {
			return ki, true
		}
	}
	return kindInfo{}, false
}

// KindName is the name of a kind as written in YAML ("AnycastService").
func KindName(k v1.Kind) string {
	if ki, ok := info(k); ok {
		return ki.name
	}
	return k.String()
}

// KindPlural is the lower-case plural used in keys and by the CLI ("pops").
func KindPlural(k v1.Kind) string {
	if ki, ok := info(k); ok {
		return ki.plural
	}
	return strings.ToLower(k.String())
}

// KindFromName maps a YAML kind ("Pop") to a Kind. It is exact: documents
// must spell the kind as shown by KindName.
func KindFromName(s string) (v1.Kind, bool) {
	for _, ki := range kinds {
		if ki.name == s {
			return ki.kind, true
		}
	}
	return v1.Kind_KIND_UNSPECIFIED, false
}

// ParseKind maps what a CLI user types ("pops", "svc", "GslbRecord") to a
// Kind, case-insensitively.
func ParseKind(s string) (v1.Kind, error) {
	l := strings.ToLower(s)
	for _, ki := range kinds {
		if l == strings.ToLower(ki.name) {
			return ki.kind, nil
		}
		for _, a := range ki.aliases {
			if l == a {
				return ki.kind, nil
			}
		}
	}
	var names []string
	for _, ki := range kinds {
		names = append(names, ki.plural)
	}
	sort.Strings(names)
	return v1.Kind_KIND_UNSPECIFIED, fmt.Errorf("unknown kind %q: want one of %s", s, strings.Join(names, ", "))
}

// Ref identifies one object.
type Ref struct {
	Kind v1.Kind
	Name string
}

// String renders the reference as error messages use it: Pop "tokyo".
// A long name is cut, as Quote cuts it.
func (r Ref) String() string { return KindName(r.Kind) + " " + Quote(r.Name) }

// RefOf returns the reference of an object.
func RefOf(o *v1.Object) Ref { return Ref{Kind: KindOf(o), Name: Meta(o).GetName()} }

// KindOf returns the kind of an object, KIND_UNSPECIFIED when it is empty.
func KindOf(o *v1.Object) v1.Kind {
	switch o.GetResource().(type) {
	case *v1.Object_Pop:
		return v1.Kind_KIND_POP
	case *v1.Object_AnycastService:
		return v1.Kind_KIND_ANYCAST_SERVICE
	case *v1.Object_Origin:
		return v1.Kind_KIND_ORIGIN
	case *v1.Object_GslbZone:
		return v1.Kind_KIND_GSLB_ZONE
	case *v1.Object_GslbRecord:
		return v1.Kind_KIND_GSLB_RECORD
	}
	return v1.Kind_KIND_UNSPECIFIED
}

// Inner returns the kind's own message (*v1.Pop, ...) inside an object.
func Inner(o *v1.Object) proto.Message {
	switch r := o.GetResource().(type) {
	case *v1.Object_Pop:
		return r.Pop
	case *v1.Object_AnycastService:
		return r.AnycastService
	case *v1.Object_Origin:
		return r.Origin
	case *v1.Object_GslbZone:
		return r.GslbZone
	case *v1.Object_GslbRecord:
		return r.GslbRecord
	}
	return nil
}

// Wrap puts a kind's message into an Object. It panics on a message that is
// not a resource, which is a programming error.
func Wrap(m proto.Message) *v1.Object {
	switch r := m.(type) {
	case *v1.Pop:
		return &v1.Object{Resource: &v1.Object_Pop{Pop: r}}
	case *v1.AnycastService:
		return &v1.Object{Resource: &v1.Object_AnycastService{AnycastService: r}}
	case *v1.Origin:
		return &v1.Object{Resource: &v1.Object_Origin{Origin: r}}
	case *v1.GslbZone:
		return &v1.Object{Resource: &v1.Object_GslbZone{GslbZone: r}}
	case *v1.GslbRecord:
		return &v1.Object{Resource: &v1.Object_GslbRecord{GslbRecord: r}}
	}
	panic(fmt.Sprintf("resource.Wrap: %T is not a resource", m))
}

// NewOfKind returns an empty message of the kind, for decoding into.
func NewOfKind(k v1.Kind) proto.Message {
	switch k {
	case v1.Kind_KIND_POP:
		return &v1.Pop{}
	case v1.Kind_KIND_ANYCAST_SERVICE:
		return &v1.AnycastService{}
	case v1.Kind_KIND_ORIGIN:
		return &v1.Origin{}
	case v1.Kind_KIND_GSLB_ZONE:
		return &v1.GslbZone{}
	case v1.Kind_KIND_GSLB_RECORD:
		return &v1.GslbRecord{}
	}
	return nil
}

// Meta returns the metadata of an object, nil when it has none.
func Meta(o *v1.Object) *v1.ObjectMeta {
	switch r := o.GetResource().(type) {
	case *v1.Object_Pop:
		return r.Pop.GetMetadata()
	case *v1.Object_AnycastService:
		return r.AnycastService.GetMetadata()
	case *v1.Object_Origin:
		return r.Origin.GetMetadata()
	case *v1.Object_GslbZone:
		return r.GslbZone.GetMetadata()
	case *v1.Object_GslbRecord:
		return r.GslbRecord.GetMetadata()
	}
	return nil
}

// EnsureMeta returns the object's metadata, creating it when absent.
func EnsureMeta(o *v1.Object) *v1.ObjectMeta {
	if m := Meta(o); m != nil {
		return m
	}
	m := &v1.ObjectMeta{}
	switch r := o.GetResource().(type) {
	case *v1.Object_Pop:
		r.Pop.Metadata = m
	case *v1.Object_AnycastService:
		r.AnycastService.Metadata = m
	case *v1.Object_Origin:
		r.Origin.Metadata = m
	case *v1.Object_GslbZone:
		r.GslbZone.Metadata = m
	case *v1.Object_GslbRecord:
		r.GslbRecord.Metadata = m
	default:
		return nil
	}
	return m
}
