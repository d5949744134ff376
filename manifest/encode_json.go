package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// writeJSON writes a node tree as indented JSON, keeping the field order.
func writeJSON(w io.Writer, n *yaml.Node) error {
	var compact bytes.Buffer
	if err := appendJSON(&compact, n); err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	out.WriteByte('\n')
	_, err := w.Write(out.Bytes())
	return err
}

// jsonFloats are the JSON spellings of the special floats, as protobuf JSON
// writes them.
var jsonFloats = map[string]string{".nan": `"NaN"`, ".inf": `"Infinity"`, "-.inf": `"-Infinity"`}

func appendJSON(b *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		open, close := byte('{'), byte('}')
		if n.Kind == yaml.SequenceNode {
			open, close = '[', ']'
		}
		b.WriteByte(open)
		for i, c := range n.Content {
			if i > 0 {
				if n.Kind == yaml.MappingNode && i%2 == 1 {
					b.WriteByte(':')
				} else {
					b.WriteByte(',')
				}
			}
			if err := appendJSON(b, c); err != nil {
				return err
			}
		}
		b.WriteByte(close)
	case yaml.ScalarNode:
		if n.Tag == "!!str" {
			s, err := json.Marshal(n.Value)
			if err != nil {
				return fmt.Errorf("write json: %w", err)
			}
			b.Write(s)
			return nil
		}
		if s, ok := jsonFloats[n.Value]; ok {
			b.WriteString(s)
			return nil
		}
		b.WriteString(n.Value)
	}
	return nil
}
