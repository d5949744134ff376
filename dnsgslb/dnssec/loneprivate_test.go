package dnssec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestLoadDirRefusesAPrivateFileAlone: a private key file whose .key was
// not copied beside it is a key the server would leave out without a
// word (a zone answered unsigned, a rollover's key missing on one
// server): LoadDir says which file and what to do.
func TestLoadDirRefusesAPrivateFileAlone(t *testing.T) {
	dir := t.TempDir()
	if _, err := Generate(dir, "example.com.", dns.ECDSAP256SHA256, CSK, now); err != nil {
		t.Fatal(err)
	}
	alone, err := Generate(dir, "example.com.", dns.ECDSAP256SHA256, CSK, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(alone.File + ".key"); err != nil {
		t.Fatal(err)
	}
	keys, err := LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), filepath.Base(alone.File)+".private") || !strings.Contains(err.Error(), ".key") {
		t.Fatalf("LoadDir: %d keys, error %v; want an error naming %s.private", len(keys["example.com."]), err, filepath.Base(alone.File))
	}
}
