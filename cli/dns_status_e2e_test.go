package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
)

// TestStatusNamesADNSServerThatRefusedItsSnapshot starts two DNS servers
// on one controller, one with a damaged persisted snapshot: anyctl status
// counts both, and names the one that refused its snapshot, with the file
// and why; the other is not named.
func TestStatusNamesADNSServerThatRefusedItsSnapshot(t *testing.T) {
	ctl := controllertest.Start(t)
	applyExampleDeployment(t, ctl)
	geoip := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.Write(geoip, geotest.Networks); err != nil {
		t.Fatal(err)
	}
	damaged := t.TempDir()
	snapshot := filepath.Join(damaged, "gslb-snapshot.pb")
	if err := os.WriteFile(snapshot, []byte("not a snapshot"), 0o600); err != nil {
		t.Fatal(err)
	}
	startDNS(t, "--controller", ctl.Addr, "--listen", "127.0.0.1:0", "--metrics-listen", "", "--geoip", geoip,
		"--state-dir", damaged, "--name", "ns-damaged")
	startDNS(t, "--controller", ctl.Addr, "--listen", "127.0.0.1:0", "--metrics-listen", "", "--geoip", geoip,
		"--state-dir", t.TempDir(), "--name", "ns-fine")

	var out string
	for deadline := time.Now().Add(dnsWait); ; {
		code, stdout, stderr := runAnyctl([]string{"--server", ctl.Addr, "status"}, "")
		if code != ExitOK {
			t.Fatalf("anyctl status: exit %d: %s", code, stderr)
		}
		out = stdout
		if strings.Contains(out, "DNS servers:   2 ") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out, "DNS servers:   2 streaming the GSLB feed from this replica") {
		t.Fatalf("status does not count the two DNS servers:\n%s", out)
	}
	if !strings.Contains(out, "ns-damaged (127.0.0.1:") || !strings.Contains(out, "refused its persisted snapshot at start: ") ||
		!strings.Contains(out, snapshot) || !strings.Contains(out, "corrupt state file") {
		t.Errorf("status does not name the DNS server that refused its snapshot, with the file:\n%s", out)
	}
	if strings.Contains(out, "ns-fine (") {
		t.Errorf("status names the DNS server whose state was fine:\n%s", out)
	}
	t.Logf("anyctl status:\n%s", out)
}
