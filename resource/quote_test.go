package resource

import (
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{"tokyo", `"tokyo"`},
		{"a/b", `"a/b"`},
		{"\xff", `"\xff"`},
		{strings.Repeat("a", 64), `"` + strings.Repeat("a", 64) + `"`},
		{strings.Repeat("a", 3<<20), `"` + strings.Repeat("a", 64) + `"… (3145728 bytes)`},
		// A cut never splits a character: "é" is 2 bytes, at 63 and 64.
		{strings.Repeat("a", 63) + strings.Repeat("é", 10), `"` + strings.Repeat("a", 63) + `"… (83 bytes)`},
	} {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%.80q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
