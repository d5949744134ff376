package cli_test

import (
	"strings"
	"testing"

	"github.com/anyctl/anyctl/cli"
)

// TestControllerOriginDownQuorumZero: --origin-down-quorum 0 is refused
// before anything starts, not read as the default half it would become in
// the controller's config.
func TestControllerOriginDownQuorumZero(t *testing.T) {
	r := anyctl(t, "127.0.0.1:1", "", "controller", "--data-dir", t.TempDir(), "--origin-down-quorum", "0")
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "--origin-down-quorum 0: want a share in (0, 1)") {
		t.Errorf("controller --origin-down-quorum 0: exit %d\n%s", r.code, r.stderr)
	}
}
