package atomicfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestFramedRoundTrip: what WriteFramed wrote, ReadFramed returns.
func TestFramedRoundTrip(t *testing.T) {
	for _, payload := range [][]byte{{}, []byte("x"), bytes.Repeat([]byte("state"), 1000)} {
		path := filepath.Join(t.TempDir(), "state.pb")
		if err := WriteFramed(path, "TEST", payload); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFramed(path, "TEST")
		if err != nil {
			t.Fatalf("ReadFramed: %v", err)
		}
		if !bytes.Equal(got, payload) {
			t.Errorf("payload = %q, want %q", got, payload)
		}
	}
}

// TestFramedRefusesDamage: every truncation, every single-byte change, a
// file of another kind and an unframed file are refused with ErrCorrupt.
func TestFramedRefusesDamage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.pb")
	if err := WriteFramed(path, "TEST", []byte("a payload of some length")); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	refused := func(what string, b []byte, magic string) {
		t.Helper()
		if _, err := Unframe(b, magic); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Unframe = %v, want ErrCorrupt", what, err)
		}
	}
	for n := range len(good) {
		refused("truncated", good[:n], "TEST")
	}
	for i := range good {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			b := bytes.Clone(good)
			b[i] ^= x
			refused("byte changed", b, "TEST")
		}
	}
	refused("appended", append(bytes.Clone(good), 0), "TEST")
	refused("other kind", good, "OTHR")
	refused("unframed", []byte("\x0a\x05tokyo"), "TEST")
	if _, err := ReadFramed(filepath.Join(t.TempDir(), "missing"), "TEST"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want os.ErrNotExist", err)
	}
}
