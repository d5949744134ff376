package prometheus

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestAlertRules checks the rules and runs their unit tests with promtool
// (Debian package prometheus; scripts/test-deps.sh installs it).
func TestAlertRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("no promtool: install the Debian package prometheus (scripts/test-deps.sh does, as root)")
	}
	for _, args := range [][]string{
		{"check", "rules", "anyctl.rules.yml"},
		{"test", "rules", "anyctl.rules.test.yml"},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		t.Logf("promtool %v:\n%s", args, out)
		if err != nil {
			t.Errorf("promtool %v: %v", args, err)
		}
	}
}

// TestRulesNameExportedMetrics keeps the rules (and the dashboard) on
// metrics the code exports: every anyctl_ series they use is defined in
// the module's non-test Go code.
func TestRulesNameExportedMetrics(t *testing.T) {
	defined := map[string]bool{}
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range quotedMetric.FindAllStringSubmatch(string(b), -1) {
			defined[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"anyctl.rules.yml", "../grafana/anyctl-fleet.json"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range usedMetric.FindAllString(string(b), -1) {
			base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
			if !defined[name] && !defined[base] {
				t.Errorf("%s uses %s, which no Go code exports", file, name)
			}
		}
	}
}

var (
	quotedMetric = regexp.MustCompile(`"(anyctl_[a-z0-9_]+)"`)
	usedMetric   = regexp.MustCompile(`anyctl_[a-z0-9_]+`)
)

// TestDashboardQueriesParse checks every query of the Grafana dashboard
// with promtool: each becomes a recording rule of a temporary rules file.
func TestDashboardQueriesParse(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("no promtool: install the Debian package prometheus (scripts/test-deps.sh does, as root)")
	}
	b, err := os.ReadFile("../grafana/anyctl-fleet.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string
		Panels []struct {
			ID      int
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	ids := map[int]bool{}
	n := 0
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		for _, tg := range p.Targets {
			n++
			q, _ := json.Marshal(tg.Expr) // a JSON string is a YAML string
			fmt.Fprintf(&rules, "      - record: anyctl:dashboard:q%d\n        expr: %s\n", n, q)
		}
	}
	if n < 20 {
		t.Fatalf("dashboard has %d queries; want the whole fleet covered", n)
	}
	f := filepath.Join(t.TempDir(), "dashboard.rules.yml")
	if err := os.WriteFile(f, []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", f).CombinedOutput()
	if err != nil {
		t.Errorf("promtool check rules on the dashboard's %d queries: %v\n%s", n, err, out)
	}
	t.Logf("%d dashboard queries parse:\n%s", n, out)
}
