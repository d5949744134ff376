package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/controller/controllertest"
)

// TestE2EApplyWarnsOfLongCacheNetworks: PoP cache networks longer than
// /24 or /56 are accepted, and apply, with and without --dry-run, says on
// standard error that resolvers shortening ECS cannot tell them apart.
func TestE2EApplyWarnsOfLongCacheNetworks(t *testing.T) {
	c := controllertest.Start(t)
	pops := filepath.Join(examplesDir, "pops.yaml")
	want := []string{
		`Warning: Pop "tokyo": spec.cacheNetworks[0] "203.0.113.136/29": longer than /24: behind a resolver that shortens ECS to /24 (unbound's default) the DNS server sees only the /24, and cannot tell this network from the rest of it`,
		`Warning: Pop "tokyo": spec.cacheNetworks[1] "2001:db8:100:c::/64": longer than /56: behind a resolver that shortens ECS to /56 (unbound's default) the DNS server sees only the /56, and cannot tell this network from the rest of it`,
	}
	for _, args := range [][]string{{"apply", "--dry-run", "-f", pops}, {"apply", "-f", pops}} {
		r := mustAnyctl(t, c.Addr, "", args...)
		for _, w := range want {
			if !strings.Contains(r.stderr, w+"\n") {
				t.Errorf("anyctl %s: standard error lacks\n%s\ngot:\n%s", strings.Join(args, " "), w, r.stderr)
			}
		}
		if !strings.Contains(r.stdout, "pop/tokyo created") {
			t.Errorf("anyctl %s: standard output:\n%s", strings.Join(args, " "), r.stdout)
		}
	}
}
