package dnsgslb_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
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
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: %q
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: %q
    file: %q
`, port, dir, indent("    ", server), dir, dir, gslbtest.Zone, zonePath)
	confPath := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", confPath)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("knotd exited: %v\n%s", err, out)
		default:
		}
		m := new(dns.Msg)
		m.SetQuestion(gslbtest.Zone, dns.TypeSOA)
		c := &dns.Client{Timeout: 200 * time.Millisecond}
		if r, _, err := c.Exchange(m, addr); err == nil && r.Rcode == dns.RcodeSuccess && r.Authoritative {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("knotd does not answer for %s on %s after 10 s\n%s", gslbtest.Zone, addr, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
