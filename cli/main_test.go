package cli_test

import (
	"os"
	"testing"

	"github.com/anyctl/anyctl/cli"
)

// execEnv, set in a child's environment, makes the test binary run anyctl
// with the child's arguments instead of the tests, so that a test can run a
// daemon as its own process and signal it.
const execEnv = "ANYCTL_TEST_EXEC"

func TestMain(m *testing.M) {
	if os.Getenv(execEnv) == "1" {
		os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
