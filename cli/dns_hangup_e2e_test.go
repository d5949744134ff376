package cli

import (
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/anyctl/anyctl/controller/controllertest"
)

// TestDNSHangupWithoutGeoIP: SIGHUP to a server without --geoip (one that
// reloads only its DNSSEC keys on it) is not met with a warning that no
// GeoIP database was reloaded.
func TestDNSHangupWithoutGeoIP(t *testing.T) {
	ctl := controllertest.Start(t)
	applyExampleDeployment(t, ctl)
	cmd, logs, _ := startDNSProcess(t, "--controller", ctl.Addr, "--listen", "127.0.0.1:0", "--metrics-listen", "",
		"--state-dir", t.TempDir())
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
