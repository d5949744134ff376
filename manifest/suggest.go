package manifest

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

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
