package manifest

import (
	"bytes"
)

// rawDocument is one YAML document of an input, not yet parsed.
type rawDocument struct {
	data []byte
	// firstLine is the input line (1-based) data starts at.
	firstLine int
}

// splitDocuments cuts a YAML stream at its "---" document markers. A line
// starting with "---" followed by the end of the line or a blank is always a
// marker in YAML, even inside a block scalar, so no parsing is needed; the
// marker stays at the head of its document, where the parser accepts it.
// Cutting here, before parsing, is what lets each document be held to
// MaxDocumentBytes.
func splitDocuments(data []byte) []rawDocument {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var docs []rawDocument
	start, startLine, line := 0, 1, 1
	for off := 0; off < len(data); line++ {
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += off + 1
		}
		if off > 0 && isDocumentMarker(data[off:end]) {
			docs = append(docs, rawDocument{data: data[start:off], firstLine: startLine})
			start, startLine = off, line
		}
		off = end
	}
	return append(docs, rawDocument{data: data[start:], firstLine: startLine})
}

func isDocumentMarker(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("---"))
	return ok && (len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r')
}
