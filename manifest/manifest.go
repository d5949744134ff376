// Package manifest reads and writes desired-state objects as the YAML (or
// JSON) documents operators apply:
//
//	apiVersion: anycast.anyctl.io/v1
//	kind: Pop
//	metadata: {name: tokyo}
//	spec: {...}
//
// Decoding is strict: an unknown field, a wrong type or an unknown enum value
// anywhere is an error naming the source, the document, the line and the
// field path. Both directions use the friendly forms of a few types: Go
// durations ("100ms") for google.protobuf.Duration and short lower-case enum
// names ("fail-open" for ALL_DOWN_BEHAVIOR_FAIL_OPEN).
package manifest

// Size limits on what Decode reads.
const (
	// MaxDocumentBytes bounds one YAML document.
	MaxDocumentBytes = 1 << 20
	// MaxInputBytes bounds one input (a file or stdin).
	MaxInputBytes = 16 << 20
	// maxNodesPerDocument bounds the values one document may expand to
	// through YAML aliases, so a small document cannot make decoding
	// exponential.
	maxNodesPerDocument = 1 << 20
	// maxErrors bounds how many problems one Decode reports.
	maxErrors = 50
)
