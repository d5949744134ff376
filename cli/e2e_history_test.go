package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/cli"
	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// TestE2EHistoryAndRollback makes a bad change (a raised minimum and a
// deleted record), finds it in anyctl history and undoes it with anyctl
// rollback; refused rollbacks change nothing.
func TestE2EHistoryAndRollback(t *testing.T) {
	c := startWithExamples(t)
	good := listAll(t, c.Admin)

	services := readFile(t, filepath.Join(examplesDir, "services.yaml"))
	bad := replaceOnce(t, services, "minAnnouncingPops: 2      # health never", "minAnnouncingPops: 3      # health never")
	mustAnyctl(t, c.Addr, bad, "apply", "-f", "-")
	mustAnyctl(t, c.Addr, "", "delete", "record", "accounts")

	hist := mustAnyctl(t, c.Addr, "", "history")
	t.Logf("anyctl history:\n%s", hist.stdout)
	rows := nonEmptyLines(hist.stdout)
	if !strings.HasPrefix(rows[0], "REVISION") || len(rows) != 1+1+1+len(exampleObjects) {
		t.Fatalf("history has %d lines, want a header, the delete, the change and %d creations:\n%s", len(rows), len(exampleObjects), hist.stdout)
	}
	for i, want := range [][]string{
		{"local", "delete", "gslbrecord/accounts", "deleted", "-"},
		{"local", "apply", "anycastservice/edge-dns", "changed", "spec.minAnnouncingPops:", "2→3"},
		{"local", "apply", "gslbzone/gslb", "created", "-"},
	} {
		if got := strings.Fields(rows[1+i])[2:]; strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("history row %d = %q, want %q", i+1, got, want)
		}
	}

	one := mustAnyctl(t, c.Addr, "", "history", "service", "edge-dns")
	if !strings.Contains(one.stdout, "- spec.minAnnouncingPops: 2") || !strings.Contains(one.stdout, "+ spec.minAnnouncingPops: 3") ||
		strings.Contains(one.stdout, "accounts") {
		t.Errorf("history service edge-dns:\n%s", one.stdout)
	}
	var asJSON struct {
		Entries []struct {
			Revision  int64
			Operation string
			Actor     string
		}
	}
	js := mustAnyctl(t, c.Addr, "", "history", "-o", "json", "--limit", "2")
	if err := json.Unmarshal([]byte(js.stdout), &asJSON); err != nil || len(asJSON.Entries) != 2 || asJSON.Entries[0].Operation != "delete" {
		t.Errorf("history -o json --limit 2: %v\n%s", err, js.stdout)
	}

	to := strconv.FormatInt(good.GetRevision(), 10)
	before := listAll(t, c.Admin)
	for _, bad := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"rollback"}, cli.ExitUsage, "rollback needs --to-revision N"},
		{[]string{"rollback", "--to-revision", "-3"}, cli.ExitUsage, "--to-revision -3"},
		{[]string{"rollback", "pop", "--to-revision", to}, cli.ExitUsage, "rollback takes KIND and NAME"},
		{[]string{"rollback", "--to-revision", "999999"}, cli.ExitFailure, "rollback: revision 999999 is ahead of the store"},
		{[]string{"history", "nonsense"}, cli.ExitUsage, `unknown kind "nonsense"`},
		{[]string{"history", "--limit", "-1"}, cli.ExitUsage, "--limit -1"},
		{[]string{"history", "-o", "name"}, cli.ExitUsage, "-o name: history has no names"},
		// Before the zone existed: rolling it back alone deletes it, which
		// the records that live in it refuse.
		{[]string{"rollback", "zone", "gslb", "--to-revision", "1"}, cli.ExitFailure,
			`GslbZone "gslb": deleting it breaks the reference from GslbRecord "edge-unicast" at spec.zone; keep it, or remove the reference in the same change`},
	} {
		r := anyctl(t, c.Addr, "", bad.args...)
		if r.code != bad.code || !strings.Contains(r.stdout+r.stderr, bad.stderr) {
			t.Errorf("anyctl %s: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit %d and %q", strings.Join(bad.args, " "), r.code, r.stdout, r.stderr, bad.code, bad.stderr)
		}
	}
	requireSameState(t, before, listAll(t, c.Admin))

	dry := mustAnyctl(t, c.Addr, "", "rollback", "--to-revision", to, "--dry-run")
	wantDry := "anycastservice/edge-dns configured (dry run)\n" +
		"    - spec.minAnnouncingPops: 3\n" +
		"    + spec.minAnnouncingPops: 2\n" +
		"gslbrecord/accounts created (dry run)\n"
	if dry.stdout != wantDry {
		t.Errorf("rollback --dry-run printed:\n%s\nwant:\n%s", dry.stdout, wantDry)
	}
	requireSameState(t, before, listAll(t, c.Admin))

	rb := mustAnyctl(t, c.Addr, "", "rollback", "--to-revision", to)
	t.Logf("anyctl rollback --to-revision %s:\n%s", to, rb.stdout)
	requireEqualObjects(t, good, listAll(t, c.Admin))

	after := mustAnyctl(t, c.Addr, "", "history", "--limit", "1")
	if row := strings.Fields(nonEmptyLines(after.stdout)[1]); strings.Join(row[2:6], " ") != "local rollback to revision" || row[6] != to {
		t.Errorf("newest history record after the rollback: %q", row)
	}
	// Nothing left to undo.
	again := mustAnyctl(t, c.Addr, "", "rollback", "--to-revision", to)
	if !strings.Contains(again.stdout, "nothing to roll back") {
		t.Errorf("second rollback printed:\n%s", again.stdout)
	}
}

// requireEqualObjects fails unless after holds the objects of before,
// versions aside.
func requireEqualObjects(t *testing.T, before, after *v1.ListResponse) {
	t.Helper()
	was, now := byRef(before.GetObjects()), byRef(after.GetObjects())
	if len(was) != len(now) {
		t.Errorf("%d objects, want %d", len(now), len(was))
	}
	for ref, o := range was {
		if n, ok := now[ref]; !ok || !resource.Equal(o, n) {
			t.Errorf("%s differs:\n%s", ref, resource.Diff(o, n))
		}
	}
}

// TestE2EDiffAndPrune: diff's exit codes and output, and apply --prune
// deleting what the manifests no longer hold, refusing a deletion that
// breaks a reference.
func TestE2EDiffAndPrune(t *testing.T) {
	c := startWithExamples(t)
	if r := anyctl(t, c.Addr, "", "diff", "-f", examplesDir); r.code != 0 || r.stdout != "" {
		t.Fatalf("diff of the applied examples: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	dir := copyExamples(t)
	gslb := readFile(t, filepath.Join(dir, "gslb.yaml"))
	i := strings.Index(gslb, "# accounts: personal data")
	writeFile(t, filepath.Join(dir, "gslb.yaml"), gslb[:i])
	services := readFile(t, filepath.Join(dir, "services.yaml"))
	writeFile(t, filepath.Join(dir, "services.yaml"), replaceOnce(t, services, "minAnnouncingPops: 2      # health never", "minAnnouncingPops: 3      # health never"))
	before := listAll(t, c.Admin)

	d := anyctl(t, c.Addr, "", "diff", "-f", dir)
	t.Logf("anyctl diff:\n%s", d.stdout)
	if d.code != 1 || !strings.Contains(d.stdout, "--- anycastservice/edge-dns (stored, version ") ||
		!strings.Contains(d.stdout, "+ spec.minAnnouncingPops: 3") || strings.Contains(d.stdout, "accounts") {
		t.Errorf("diff: exit %d\n%s%s", d.code, d.stdout, d.stderr)
	}
	d = anyctl(t, c.Addr, "", "diff", "--prune", "-f", dir)
	if d.code != 1 || !strings.Contains(d.stdout, "+++ gslbrecord/accounts (pruned: not in the manifests)") ||
		!strings.Contains(d.stdout, `- spec.name: "accounts"`) {
		t.Errorf("diff --prune: exit %d\n%s%s", d.code, d.stdout, d.stderr)
	}
	if r := anyctl(t, c.Addr, "kind: Nonsense\n", "diff", "-f", "-"); r.code != 2 {
		t.Errorf("diff of a bad manifest: exit %d, want 2\n%s", r.code, r.stderr)
	}
	dry := mustAnyctl(t, c.Addr, "", "apply", "--prune", "--dry-run", "-f", dir)
	if !strings.Contains(dry.stdout, "gslbrecord/accounts deleted (dry run)") {
		t.Errorf("apply --prune --dry-run:\n%s", dry.stdout)
	}
	requireSameState(t, before, listAll(t, c.Admin))

	// Without the origin eu-west, the records that name it would break:
	// those in the manifests name an unknown origin, and pruning only the
	// origins (the records' kind is not in the manifests, so they stay)
	// would leave the stored records naming a deleted one.
	broken := copyExamples(t)
	origins := readFile(t, filepath.Join(broken, "origins.yaml"))
	var kept []string
	for _, doc := range strings.Split(origins, "\n---\n") {
		if !strings.Contains(doc, "name: eu-west") {
			kept = append(kept, doc)
		}
	}
	writeFile(t, filepath.Join(broken, "origins.yaml"), strings.Join(kept, "\n---\n"))
	onlyOrigins := filepath.Join(broken, "origins.yaml")
	for _, tc := range []struct{ path, want string }{
		{broken, `GslbRecord "origin-nearest": spec.origins[1] "eu-west": unknown Origin`},
		{onlyOrigins, `Origin "eu-west": deleting it breaks the reference from GslbRecord "accounts" at spec.origins[1]; keep it, or remove the reference in the same change`},
	} {
		r := anyctl(t, c.Addr, "", "apply", "--prune", "-f", tc.path)
		t.Logf("anyctl apply --prune -f %s:\n%s", tc.path, r.stderr)
		if r.code != cli.ExitFailure || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "nothing was written") {
			t.Errorf("apply --prune -f %s breaking references: exit %d\n%s%s\nwant %q", tc.path, r.code, r.stdout, r.stderr, tc.want)
		}
	}
	if r := anyctl(t, c.Addr, "", "apply", "--prune-kind", "pops", "-f", dir); r.code != cli.ExitUsage {
		t.Errorf("--prune-kind without --prune: exit %d", r.code)
	}
	requireSameState(t, before, listAll(t, c.Admin))

	applied := mustAnyctl(t, c.Addr, "", "apply", "--prune", "-f", dir)
	if !strings.Contains(applied.stdout, "gslbrecord/accounts deleted") || !strings.Contains(applied.stdout, "anycastservice/edge-dns configured") {
		t.Errorf("apply --prune:\n%s", applied.stdout)
	}
	if r := anyctl(t, c.Addr, "", "get", "record", "accounts"); r.code != cli.ExitFailure {
		t.Errorf("record accounts after the prune: exit %d\n%s", r.code, r.stdout)
	}
	if r := anyctl(t, c.Addr, "", "diff", "--prune", "-f", dir); r.code != 0 {
		t.Errorf("diff after apply --prune: exit %d\n%s", r.code, r.stdout)
	}
}

// copyExamples copies the example manifests into a directory of the
// test's own.
func copyExamples(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"gslb.yaml", "origins.yaml", "pops.yaml", "services.yaml"} {
		writeFile(t, filepath.Join(dir, f), readFile(t, filepath.Join(examplesDir, f)))
	}
	return dir
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestE2EHistoryRetention restarts a controller with a retention of two
// records: its leader prunes the older ones, and a rollback behind them is
// refused, naming the oldest revision it can reach.
func TestE2EHistoryRetention(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "controller")
	c := controllertest.StartAt(t, dir, nil)
	mustAnyctl(t, c.Addr, "", "apply", "-f", examplesDir)
	services := readFile(t, filepath.Join(examplesDir, "services.yaml"))
	for _, n := range []string{"3", "4", "2"} {
		mustAnyctl(t, c.Addr, replaceOnce(t, services, "minAnnouncingPops: 2      # health never", "minAnnouncingPops: "+n+"      # health never"), "apply", "-f", "-")
	}
	all := history(t, c.Admin)
	if len(all) != 4 {
		t.Fatalf("%d records before the restart, want 4", len(all))
	}
	c.Stop(t)

	c = controllertest.StartAt(t, dir, func(cfg *controller.Config) { cfg.HistoryMaxEntries = 2 })
	var kept []*v1.HistoryEntry
	for i := 0; i < 600; i++ {
		if kept = history(t, c.Admin); len(kept) == 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(kept) != 2 || kept[1].GetRevision() != all[1].GetRevision() {
		t.Fatalf("after the restart with --history-max-entries 2: %d records, want the newest 2", len(kept))
	}
	floor := strconv.FormatInt(all[2].GetRevision(), 10)
	r := anyctl(t, c.Addr, "", "rollback", "--to-revision", strconv.FormatInt(all[3].GetRevision(), 10))
	if r.code != cli.ExitFailure || !strings.Contains(r.stderr, "history does not reach back that far") ||
		!strings.Contains(r.stderr, "roll back to revision "+floor+" or later") {
		t.Errorf("rollback behind the retention: exit %d\n%s", r.code, r.stderr)
	}
	mustAnyctl(t, c.Addr, "", "rollback", "--to-revision", floor)

	bad := anyctl(t, "127.0.0.1:1", "", "controller", "--data-dir", t.TempDir(), "--history-max-entries", "-1")
	if bad.code != cli.ExitUsage || !strings.Contains(bad.stderr, "--history-max-entries -1") {
		t.Errorf("controller --history-max-entries -1: exit %d\n%s", bad.code, bad.stderr)
	}
}
