package dnsgslb_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestStandbyKeyStaysOut: a key BIND's dnssec-keygen made with no
// publication or activation time (-P none -A none: a standby key kept
// beside the others) is neither published nor signing, as in BIND; its
// file has a creation time and nothing else.
func TestStandbyKeyStaysOut(t *testing.T) {
	if _, err := exec.LookPath("dnssec-keygen"); err != nil {
		t.Fatal("dnssec-keygen is missing: make test-deps installs bind9-utils")
	}
	dir := t.TempDir()
	k, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("dnssec-keygen", "-q", "-K", dir, "-a", "ECDSAP256SHA256", "-f", "KSK", "-P", "none", "-A", "none", gslbtest.Zone).CombinedOutput()
	if err != nil {
		t.Fatalf("dnssec-keygen: %v\n%s", err, out)
	}
	standby, err := dnssec.Load(dir + "/" + strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	ts := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, gslbtest.Snapshot()))
	tag := fmt.Sprint(k.Tag())
	if got, want := signedState(t, ts.tcp), "dnskey "+tag+" / sig "+tag; got != want {
		t.Errorf("with standby key %d beside key %d: %q, want %q", standby.Tag(), k.Tag(), got, want)
	}
}
