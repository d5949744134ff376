//go:build linux

package geo_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/dnsgslb/geo"
)

// TestTableFileOfAnotherKindIsNotReadWhole: a large file that is no
// prefix table (another tool's, left at the table's name) is refused
// before it is read: a table is read into memory of the process's own,
// and a file of any size must not take that much.
func TestTableFileOfAnotherKindIsNotReadWhole(t *testing.T) {
	const size = 256 << 20
	path := filepath.Join(t.TempDir(), "table")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("not a table: an archive, a log, ...\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil { // sparse: no disk taken
		t.Fatal(err)
	}
	f.Close()
	before := peakRSS(t)
	if _, err := geo.ReadTableFile(path); err == nil || !strings.Contains(err.Error(), "not a prefix table") {
		t.Fatalf("ReadTableFile = %v, want it refused as not a prefix table", err)
	}
	if grew := peakRSS(t) - before; grew > size/4 {
		t.Errorf("refusing a %d MiB file that is no table took %d MiB more memory at its peak: it was read whole", size>>20, grew>>20)
	}
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func peakRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Skip("no VmHWM in /proc/self/status")
	return 0
}
