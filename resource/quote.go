package resource

import (
	"fmt"
	"unicode/utf8"
)

// MaxQuoted is how many bytes of a value Quote shows: error messages quote
// what a client sent, and a client may send megabytes.
const MaxQuoted = 64

// Quote renders s as %q does when it is at most MaxQuoted bytes; a longer s
// is cut to its first MaxQuoted bytes (at a character boundary) and its
// length is given: "aaaa…" (3145728 bytes).
func Quote(s string) string {
	if len(s) <= MaxQuoted {
		return fmt.Sprintf("%q", s)
	}
	cut := MaxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:cut], len(s))
}
