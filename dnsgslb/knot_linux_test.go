package dnsgslb_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// startKnot runs Knot DNS serving the zone file for the test zone on a
// free loopback port until the test ends, and returns its address once it
// answers. Each of server is a line added to the server section of its
// configuration.
func startKnot(t *testing.T, bin, zone string, server ...string) string {
	t.Helper()
	return startKnotWith(t, bin, zone, server, false)
}

// startKnotSigned is startKnot signing the zone with a key of its own
// (ECDSA P-256, one key, NSEC, no CDS or CDNSKEY); it returns once the
// zone's DNSKEY is served.
func startKnotSigned(t *testing.T, bin, zone string) string {
	t.Helper()
	return startKnotWith(t, bin, zone, nil, true)
}

func startKnotWith(t *testing.T, bin, zone string, server []string, signed bool) string {
	t.Helper()
	dir := t.TempDir()
	zonePath := filepath.Join(dir, "zone")
	if err := os.WriteFile(zonePath, []byte(zone), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	conf := fmt.Sprintf(`server:
    listen: 127.0.0.1@%d
    rundir: %q
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
%s
database:
    storage: %q
    kasp-db: %q
policy:
  - id: judge
    algorithm: ecdsap256sha256
    single-type-signing: on
    nsec3: off
    cds-cdnskey-publish: none
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: %q
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    dnssec-signing: %s
    dnssec-policy: judge
zone:
  - domain: %q
    file: %q
`, port, dir, indent("    ", server), dir, filepath.Join(dir, "kasp"), dir, onOff(signed), gslbtest.Zone, zonePath)
	confPath := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ready := dns.TypeSOA
	if signed {
		ready = dns.TypeDNSKEY
	}
	runJudge(t, "knotd", bin, []string{"-c", confPath}, func() bool {
		m := new(dns.Msg)
		m.SetQuestion(gslbtest.Zone, ready)
		c := &dns.Client{Timeout: 200 * time.Millisecond}
		r, _, err := c.Exchange(m, addr)
		return err == nil && r.Rcode == dns.RcodeSuccess && r.Authoritative && len(r.Answer) > 0
	}, nil)
	return addr
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
