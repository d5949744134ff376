package wire

import (
	"bytes"
	"testing"
)

// TestLowerEveryByte checks Lower against a byte-at-a-time lowering for
// every byte value at every position of a word and in the tail.
func TestLowerEveryByte(t *testing.T) {
	for n := 0; n <= 19; n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				in := bytes.Repeat([]byte{'Q'}, n)
				in[pos] = byte(c)
				want := bytes.ToLower(in) // ASCII only: all bytes below 0x80 or invalid UTF-8
				if c >= 0x80 {
					want = bytes.Repeat([]byte{'q'}, n)
					want[pos] = byte(c)
				}
				var dst [255]byte
				if got := Lower(dst[:], in); !bytes.Equal(got, want) {
					t.Fatalf("Lower(%q) = %q, want %q", in, got, want)
				}
			}
		}
	}
}

func BenchmarkLower(b *testing.B) {
	name := []byte("\x07Nearest\x04GSLB\x07example\x03com\x00")
	var dst [255]byte
	b.ReportAllocs()
	for b.Loop() {
		Lower(dst[:], name)
	}
}
