package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
)

// TestStatusFlagsDNSServersWithDifferentDNSKEYSets runs two DNS servers
// of the example zone with keys of their own: anyctl status says the
// servers disagree on the zone's DNSKEY set and names each with its key
// tag. Then the second server gets the first one's key files instead and
// reads its key directory again: it subscribes again with its new DNSKEY
// set, and status says both answer the same one.
func TestStatusFlagsDNSServersWithDifferentDNSKEYSets(t *testing.T) {
	ctl := controllertest.Start(t)
	applyExampleDeployment(t, ctl)
	geoip := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.Write(geoip, geotest.Networks); err != nil {
		t.Fatal(err)
	}
	const zone = "gslb.example.com."
	dirA, dirB := t.TempDir(), t.TempDir()
	keyA, err := dnssec.Generate(dirA, zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	keyB, err := dnssec.Generate(dirB, zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	start := func(name, keys string) *runningDNS {
		return startDNS(t, "--controller", ctl.Addr, "--listen", "127.0.0.1:0", "--metrics-listen", "", "--geoip", geoip,
			"--state-dir", t.TempDir(), "--name", name, "--dnssec-keys", keys)
	}
	start("ns-a", dirA)
	b := start("ns-b", dirB)

	status := func(want string) string {
		t.Helper()
		var out string
		for deadline := time.Now().Add(dnsWait); ; {
			code, stdout, stderr := runAnyctl([]string{"--server", ctl.Addr, "status"}, "")
			if code != ExitOK {
				t.Fatalf("anyctl status: exit %d: %s", code, stderr)
			}
			out = stdout
			if strings.Contains(out, want) || time.Now().After(deadline) {
				return out
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	tag := func(k *dnssec.Key) string { return fmt.Sprintf("key %d ECDSAP256SHA256 ksk/csk", k.Tag()) }

	out := status("SERVERS DISAGREE")
	for _, want := range []string{
		"DNS servers:   2 streaming",
		"DNSSEC " + zone + ": SERVERS DISAGREE on the DNSKEY set",
		"ns-a (127.0.0.1:",
		"): " + tag(keyA),
		"ns-b (127.0.0.1:",
		"): " + tag(keyB),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status with two servers of different keys: no %q:\n%s", want, out)
		}
	}
	t.Logf("anyctl status:\n%s", out)

	// ns-b gets ns-a's key files, and its own are removed.
	for _, ext := range []string{".key", ".private"} {
		data, err := os.ReadFile(keyA.File + ext)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dirB, filepath.Base(keyA.File)+ext), data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(keyB.File + ext); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Server().ReloadKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	same := "DNSSEC " + zone + ": all 2 servers answer the same DNSKEY set: " + tag(keyA)
	if out := status(same); !strings.Contains(out, same) || strings.Contains(out, "DISAGREE") {
		t.Errorf("status after ns-b took ns-a's key: want %q and no disagreement:\n%s", same, out)
	} else {
		t.Logf("anyctl status:\n%s", out)
	}
}
