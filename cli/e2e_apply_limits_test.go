package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/cli"
)

// TestE2EApplyOverTheLimitsSaysHowToSplit applies what one apply cannot
// take, too many objects or too many bytes: each is refused with a message
// that names the limit and says to split the manifests, and nothing is
// written.
func TestE2EApplyOverTheLimitsSaysHowToSplit(t *testing.T) {
	c := startWithExamples(t)
	dir := t.TempDir()
	origins := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "---\napiVersion: anycast.anyctl.io/v1\nkind: Origin\nmetadata: {name: o%d}\nspec: {location: {latitude: 1, longitude: 2, country: US, continent: NA, region: americas}, addresses: [203.0.113.77], weight: 1}\n", i)
		}
		return b.String()
	}
	var large strings.Builder
	for i := range 65 {
		large.WriteString(bigOriginYAML(fmt.Sprintf("large-%d", i), 100_000))
	}
	for _, tc := range []struct {
		name, content string
		want          []string
	}{
		// 9,999 objects and the controller's own two writes (the guard,
		// the history record) are one operation over etcd's limit of
		// 10,000 per transaction.
		{"9,999 objects", origins(9_999), []string{"9999 objects", "at most 9998 objects", "split"}},
		{"10,001 objects", origins(10_001), []string{"10001 objects", "at most 9998 objects", "split"}},
		{"6.5 MB manifest", large.String(), []string{"4 MiB", "split"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "m.yaml")
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			before := listAll(t, c.Admin)
			r := anyctl(t, c.Addr, "", "apply", "-f", path)
			t.Logf("exit %d: %.600s", r.code, r.stderr)
			if r.code != cli.ExitFailure {
				t.Errorf("exit code %d, want %d", r.code, cli.ExitFailure)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %.600q does not say %q", r.stderr, w)
				}
			}
			requireSameState(t, before, listAll(t, c.Admin))
		})
	}
}
