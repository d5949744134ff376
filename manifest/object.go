package manifest

import (
	"errors"
	"fmt"
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"go.yaml.in/yaml/v3"
)

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
