package cli_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/controller/controllertest"
)

// exampleObjects are the example deployment's objects as apply names them,
// in the order apply reads them: files by name, documents in file order.
var exampleObjects = []string{
	"gslbzone/gslb",
	"gslbrecord/origin-nearest",
	"gslbrecord/origin-nearest-v6",
	"gslbrecord/origin-latency",
	"gslbrecord/origin-weighted",
	"gslbrecord/origin-failover",
	"gslbrecord/edge-unicast",
	"gslbrecord/accounts",
	"gslbrecord/origin-https",
	"origin/us-east",
	"origin/eu-west",
	"origin/ap-northeast",
	"pop/tokyo",
	"pop/london",
	"pop/newyork",
	"pop/saopaulo",
	"anycastservice/edge-dns",
	"anycastservice/edge-http",
}

// TestE2EApplyExamplesAndGet walks an operator's first session: apply the
// example deployment, list the PoPs, round-trip them through YAML, and
// preview an edit with --dry-run.
func TestE2EApplyExamplesAndGet(t *testing.T) {
	c := controllertest.Start(t)

	applied := mustAnyctl(t, c.Addr, "", "apply", "-f", examplesDir)
	if got, want := nonEmptyLines(applied.stdout), suffixed(exampleObjects, " created"); !slices.Equal(got, want) {
		t.Fatalf("apply printed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	table := mustAnyctl(t, c.Addr, "", "get", "pops")
	if got, want := firstColumn(table.stdout), []string{"NAME", "london", "newyork", "saopaulo", "tokyo"}; !slices.Equal(got, want) {
		t.Errorf("get pops first column = %q, want %q\n%s", got, want, table.stdout)
	}

	before := listAll(t, c.Admin)
	asYAML := mustAnyctl(t, c.Addr, "", "get", "pops", "-o", "yaml")
	reapplied := mustAnyctl(t, c.Addr, asYAML.stdout, "apply", "-f", "-")
	want := []string{"pop/london unchanged", "pop/newyork unchanged", "pop/saopaulo unchanged", "pop/tokyo unchanged"}
	if got := nonEmptyLines(reapplied.stdout); !slices.Equal(got, want) {
		t.Errorf("re-applying get -o yaml printed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	requireSameState(t, before, listAll(t, c.Admin))

	services := readFile(t, filepath.Join(examplesDir, "services.yaml"))
	edited := replaceOnce(t, services, "minAnnouncingPops: 2      # health never", "minAnnouncingPops: 3      # health never")
	dry := mustAnyctl(t, c.Addr, edited, "apply", "--dry-run", "-f", "-")
	wantDry := "anycastservice/edge-dns configured (dry run)\n" +
		"    - spec.minAnnouncingPops: 2\n" +
		"    + spec.minAnnouncingPops: 3\n" +
		"anycastservice/edge-http unchanged (dry run)\n"
	if dry.stdout != wantDry {
		t.Errorf("apply --dry-run printed:\n%s\nwant:\n%s", dry.stdout, wantDry)
	}
	requireSameState(t, before, listAll(t, c.Admin))
}

// suffixed appends suffix to each of names.
func suffixed(names []string, suffix string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n + suffix
	}
	return out
}

// firstColumn is the first word of each line of a table.
func firstColumn(table string) []string {
	var out []string
	for _, l := range nonEmptyLines(table) {
		out = append(out, strings.Fields(l)[0])
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// replaceOnce replaces old, which must occur exactly once in s, with new.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("%q occurs %d times, want once", old, n)
	}
	return strings.Replace(s, old, new, 1)
}
