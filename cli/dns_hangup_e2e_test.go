package cli

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller/controllertest"
)

// TestDNSHangupWithoutGeoIP: SIGHUP to a server without --geoip (one that
// reloads only its DNSSEC keys on it) is not met with a warning that no
// GeoIP database was reloaded.
func TestDNSHangupWithoutGeoIP(t *testing.T) {
	ctl := controllertest.Start(t)
	applyExampleDeployment(t, ctl)
	cmd := exec.Command(os.Args[0], "dns", "--controller", ctl.Addr, "--listen", "127.0.0.1:0", "--metrics-listen", "",
		"--state-dir", t.TempDir())
	cmd.Env = append(os.Environ(), "ANYCTL_TEST_EXEC=1")
	logs := &procLog{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(dnsWait):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("anyctl dns log:\n%s", logs)
		}
	})
	awaitLog(t, logs, regexp.MustCompile(`msg="gslb snapshot applied"`))
	// Reloads run one after the other: once the second has started, the
	// first has said all it says. The second signal is sent after the
	// first is taken, so that they do not coalesce.
	hangup := func() {
		t.Helper()
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	hangup()
	awaitLog(t, logs, regexp.MustCompile(`msg="SIGHUP: `))
	hangup()
	awaitLog(t, logs, regexp.MustCompile(`(?s)msg="SIGHUP: .*msg="SIGHUP: `))
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			t.Errorf("after SIGHUP without --geoip: %s", l)
		}
	}
}
