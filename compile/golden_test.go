package compile

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/resource"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current output")

func TestGoldenPopConfigs(t *testing.T) {
	s, obs := fleetState(), fleetObserved()
	configs := PopConfigs(s, obs)
	if len(configs) != len(s.Pops) {
		t.Fatalf("PopConfigs returned %d configs, want one per PoP (%d)", len(configs), len(s.Pops))
	}
	for _, name := range resource.SortedNames(s.Pops) {
		t.Run(name, func(t *testing.T) {
			checkGolden(t, filepath.Join("testdata", "popconfig", name+".golden"), configs[name])
		})
	}
}

func TestGoldenGslbSnapshot(t *testing.T) {
	checkGolden(t, filepath.Join("testdata", "gslb-snapshot.golden"), GslbSnapshot(fleetState(), fleetObserved()))
}

// checkGolden compares a message, as stable indented protojson, with a
// golden file, or rewrites the file under -update.
func checkGolden(t *testing.T, path string, m proto.Message) {
	t.Helper()
	got := stableJSON(t, m)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./compile -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the compiled output (run go test ./compile -update if the change is intended):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// stableJSON renders a message as protojson with fixed indentation;
// protojson itself varies its whitespace on purpose.
func stableJSON(t *testing.T, m proto.Message) []byte {
	t.Helper()
	raw, err := protojson.Marshal(m)
	if err != nil {
		t.Fatalf("marshal %T: %v", m, err)
	}
	var compact, out bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		t.Fatal(err)
	}
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// lineDiff lists the lines that differ, by line number.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl + "\n")
		}
	}
	return b.String()
}
