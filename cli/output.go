package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// Output formats of get.
const (
	outputTable = "table"
	outputYAML  = "yaml"
	outputJSON  = "json"
	outputName  = "name"
)

var outputFormats = []string{outputTable, outputYAML, outputJSON, outputName}

// parseOutput checks an -o value.
func parseOutput(s string) (string, error) {
	for _, f := range outputFormats {
		if s == f {
			return s, nil
		}
	}
	return "", UsageErrorf("-o %q: want one of %s", s, strings.Join(outputFormats, ", "))
}

// refArg parses the KIND and NAME arguments of get, describe and delete.
func refArg(kind, name string) (resource.Ref, error) {
	k, err := resource.ParseKind(kind)
	if err != nil {
		return resource.Ref{}, UsageErrorf("%w", err)
	}
	return resource.Ref{Kind: k, Name: name}, nil
}

// objectLabel names an object as the commands print it: pop/tokyo.
func objectLabel(k v1.Kind, name string) string {
	return strings.ToLower(resource.KindName(k)) + "/" + name
}

// writeObjects prints objects in a machine format. single is a get by name:
// JSON then prints the object rather than a list of one.
func writeObjects(w io.Writer, objs []*v1.Object, format string, single bool) error {
	switch format {
	case outputName:
		for _, o := range objs {
			if _, err := fmt.Fprintln(w, objectLabel(resource.KindOf(o), resource.Meta(o).GetName())); err != nil {
				return err
			}
		}
		return nil
	case outputJSON:
		if single && len(objs) == 1 {
			return manifest.EncodeObject(w, objs[0], manifest.FormatJSON)
		}
		return manifest.Encode(w, objs, manifest.FormatJSON)
	case outputYAML:
		return manifest.Encode(w, objs, manifest.FormatYAML)
	}
	return fmt.Errorf("output format %q is not a machine format", format)
}
