package dnsgslb_test

import (
	"os"
	"os/exec"
	"testing"
)

// TestUDPModesBuildOnEveryPlatform builds the package where the blocking
// worker and recvmmsg are not available (udp_other.go,
// udp_blocking_other.go): there the netpoller serves, and code shared by
// both modes must not lean on what only the Linux files define.
func TestUDPModesBuildOnEveryPlatform(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build with")
	}
	for _, target := range []struct{ goos, goarch string }{{"darwin", "arm64"}, {"linux", "riscv64"}} {
		cmd := exec.Command(goTool, "build", ".")
		cmd.Env = append(os.Environ(), "GOOS="+target.goos, "GOARCH="+target.goarch, "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("GOOS=%s GOARCH=%s go build: %v\n%s", target.goos, target.goarch, err, out)
		}
	}
}
