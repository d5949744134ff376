package dnsgslb_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// The test zone's name server as dnsviz reaches it: on port 53 at the
// addresses the zone gives it, in a network namespace of the test's own
// (the child zone's is at gslbtest.ChildNS4 and ChildNS6).
const (
	vizNS4 = "192.0.2.53"
	vizNS6 = "2001:db8::53"
)

// TestDNSVizJudgesSignedZone serves the signed test zone (static records,
// every GSLB policy, a hybrid PoP record, an HTTPS record, long TXT
// records, a CNAME, an empty non-terminal and a delegation to a child zone
// without a DS) and has dnsviz, a DNSSEC analyser nobody here
// wrote, probe it as an authoritative zone and judge the result with the
// zone's key as trust anchor: no errors (warnings are logged). The same
// probe judged against another key, and probes through a proxy that
// changes each signature or moves each expiration into the past, must
// report errors: the judge can fail. dnsviz runs in a network namespace
// with nothing but the servers of the test in it, so it needs root; it
// asks no server on the Internet.
func TestDNSVizJudgesSignedZone(t *testing.T) {
	needRoot(t, "dnsviz")
	if _, err := exec.LookPath("dnsviz"); err != nil {
		t.Fatal("dnsviz is missing: scripts/test-deps.sh installs the Debian package dnsviz")
	}
	dir := t.TempDir()
	k, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ts, n := dnsvizServe(t, dir)
	child := "child." + gslbtest.Zone

	anchor := filepath.Join(t.TempDir(), "anchor.zone")
	if err := os.WriteFile(anchor, []byte(k.DNSKEY.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	probe := dnsvizProbe(t, n, ts, nil)
	errs, warnings, statuses := dnsvizGrok(t, probe, anchor)
	for _, w := range warnings {
		t.Logf("dnsviz warning: %s", w)
	}
	for _, e := range errs {
		t.Errorf("dnsviz error: %s", e)
	}
	// Every RRset, signature and proof of the zone is secure, the child
	// zone's insecure (the parent proves it has no DS).
	for where, st := range statuses {
		want := []string{"SECURE", "VALID", "NOERROR", "NXDOMAIN"}
		if strings.Contains(where, child) {
			want = append(want, "INSECURE")
		}
		if !slices.Contains(want, st) {
			t.Errorf("dnsviz: %s is %s, want one of %v", where, st, want)
		}
	}
	count := map[string]int{}
	for _, st := range statuses {
		count[st]++
	}
	t.Logf("dnsviz: %d errors, %d warnings; statuses %v", len(errs), len(warnings), count)
	if count["SECURE"] == 0 || count["VALID"] == 0 || count["NXDOMAIN"] == 0 || count["INSECURE"] == 0 {
		t.Errorf("dnsviz judged no secure RRset, valid signature, NXDOMAIN or insecure child: %v", count)
	}

	// The same answers against another key's anchor.
	other, err := dnssec.Generate(t.TempDir(), gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(anchor, []byte(other.DNSKEY.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if errs, _, _ := dnsvizGrok(t, probe, anchor); !hasCode(errs, "NO_TRUST_ANCHOR_SIGNING") {
		t.Errorf("dnsviz against another key's anchor: want NO_TRUST_ANCHOR_SIGNING, got %q", errs)
	}
	if err := os.WriteFile(anchor, []byte(k.DNSKEY.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		what, code string
		change     func(*dns.RRSIG)
	}{
		{"a byte of each signature changed", "SIGNATURE_INVALID", func(s *dns.RRSIG) {
			b := []byte(s.Signature)
			b[4] = map[bool]byte{true: 'B', false: 'A'}[b[4] == 'A']
			s.Signature = string(b)
		}},
		{"each expiration an hour ago", "EXPIRATION_IN_PAST", func(s *dns.RRSIG) {
			s.Expiration = uint32(time.Now().Add(-time.Hour).Unix())
		}},
	} {
		probe := dnsvizProbe(t, n, ts, func(reply []byte) []byte { return changeRRSIGs(reply, tc.change) })
		errs, _, _ := dnsvizGrok(t, probe, anchor)
		if !hasCode(errs, tc.code) {
			t.Errorf("dnsviz through a proxy with %s: want %s among the errors, got %q", tc.what, tc.code, errs)
		} else {
			t.Logf("dnsviz through a proxy with %s: %d errors, %s among them", tc.what, len(errs), tc.code)
		}
	}
}

// dnsvizServe serves the signed test zone with the keys in dir, and a
// child zone (its own server, signed, without a DS in the parent), at
// their name servers' addresses in a network namespace of the test's
// own, where dnsviz reaches them on port 53 and nothing else.
func dnsvizServe(t *testing.T, dir string) (*testServer, *isolatedNet) {
	t.Helper()
	snap := gslbtest.RealZone()
	z := snap.GetZones()[0].GetSpec()
	// Name servers dnsviz can reach: none outside the namespace.
	z.NameServers = z.NameServers[:1]
	for _, sr := range z.GetRecords() {
		if sr.GetName() == "child" {
			sr.Values = []string{"ns1.child"}
		}
	}
	ts := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, snap))

	// The child zone, served by a server of ours too: signed, with no DS
	// in the parent, so insecure. (Unsigned, it would answer its DNSKEY
	// query NODATA, which dnsviz 0.9.4's grok fails on with a KeyError
	// when given trust anchors.)
	child := "child." + gslbtest.Zone
	childKeys := t.TempDir()
	if _, err := dnssec.Generate(childKeys, child, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	childServer := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: childKeys}, &v1.GslbSnapshot{Revision: 1, Zones: []*v1.GslbZone{{
		Metadata: &v1.ObjectMeta{Name: "child"},
		Spec: &v1.GslbZoneSpec{
			Zone:        child,
			Soa:         &v1.Soa{Mname: "ns1", Rname: "hostmaster", Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minimum: 60},
			NameServers: []*v1.NameServer{{Name: "ns1", Addresses: []string{gslbtest.ChildNS4, gslbtest.ChildNS6}}},
			Records:     []*v1.StaticRecord{{Name: "www", Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"192.0.2.201"}}},
		},
	}}}))

	n := newIsolatedNet(t, vizNS4, vizNS6, gslbtest.ChildNS4, gslbtest.ChildNS6)
	n.forward(t, port53(gslbtest.ChildNS4), childServer.udp, childServer.tcp, nil)
	n.forward(t, port53(gslbtest.ChildNS6), childServer.udp, childServer.tcp, nil)
	return ts, n
}

// port53 is addr's port 53.
func port53(addr string) string {
	if strings.Contains(addr, ":") {
		return "[" + addr + "]:53"
	}
	return addr + ":53"
}

// dnsvizProbe serves ts at the zone's name server addresses in n (through
// change when it is not nil) and runs dnsviz probe there against it,
// authoritative only, for names of every kind the zone has; it returns
// the file of dnsviz's results.
func dnsvizProbe(t *testing.T, n *isolatedNet, ts *testServer, change func([]byte) []byte) string {
	t.Helper()
	defer n.forward(t, port53(vizNS4), ts.udp, ts.tcp, change)()
	defer n.forward(t, port53(vizNS6), ts.udp, ts.tcp, change)()

	z := gslbtest.Zone
	ns := "ns1." + z
	out := filepath.Join(t.TempDir(), "probe.json")
	args := []string{"probe", "-A", "-E", "-p", "-o", out,
		"-x", fmt.Sprintf("%s+:%s=%s,%s=[%s]", z, ns, vizNS4, ns, vizNS6),
		z, "www." + z, "alias." + z, "txt." + z, "big." + z, "sel._domainkey." + z, "a.deep." + z, "deep." + z,
		"_sip._tcp." + z, "svc." + z, "nope." + z, "a.b.nope." + z,
		"nearest." + z, "latency." + z, "weighted." + z, "failover." + z, "dialled." + z, "edge." + z,
		"eu-only." + z, "strict." + z, "web." + z, "child." + z, "www.child." + z,
	}
	if b, err := n.command("dnsviz", args...); err != nil {
		t.Fatalf("dnsviz probe: %v\n%s", err, b)
	}
	return out
}

// dnsvizGrok has dnsviz judge a probe's results with the DNSKEY records in
// anchor as trust anchors, and returns its errors and warnings, each with
// where it was found, and the status of each thing it judged, by where.
func dnsvizGrok(t *testing.T, probe, anchor string) (errs, warnings []string, statuses map[string]string) {
	t.Helper()
	out, err := grokCommand(t, "-P", "-t", anchor, "-r", probe).Output()
	if err != nil {
		t.Fatalf("dnsviz grok: %v\n%s", err, stderrOf(err))
	}
	var doc any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("dnsviz grok printed no JSON: %v\n%s", err, out)
	}
	statuses = map[string]string{}
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for key, sub := range v {
				switch key {
				case "errors", "warnings":
					for _, e := range sub.([]any) {
						m, _ := e.(map[string]any)
						line := fmt.Sprintf("%s: %v: %v", where, m["code"], m["description"])
						if key == "errors" {
							errs = append(errs, line)
						} else {
							warnings = append(warnings, line)
						}
					}
				case "status":
					if s, ok := sub.(string); ok {
						statuses[where] = s
					}
				default:
					walk(where+"/"+key, sub)
				}
			}
		case []any:
			for i, sub := range v {
				id := fmt.Sprint(i)
				if m, ok := sub.(map[string]any); ok && m["id"] != nil {
					id = fmt.Sprint(m["id"])
				}
				walk(where+"["+id+"]", sub)
			}
		}
	}
	walk("", doc)
	slices.Sort(errs)
	slices.Sort(warnings)
	return errs, warnings, statuses
}

// grokCommand is dnsviz grok with args. dnsviz 0.9.4 (Debian 12) checks
// for pygraphviz by importing pygraphviz.release, which pygraphviz 1.7
// no longer has, and refuses trust anchors without it: the command runs
// dnsviz's grok under dnsviz's own interpreter with that module filled in
// from the version pygraphviz says it is.
func grokCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("dnsviz")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	first, _ := bufio.NewReader(f).ReadString('\n')
	interp, ok := strings.CutPrefix(strings.TrimSpace(first), "#!")
	if !ok {
		t.Fatalf("%s does not start with #!interpreter", bin)
	}
	const shim = `import sys, types, pygraphviz
try:
    from pygraphviz import release
except ImportError:
    release = types.ModuleType("pygraphviz.release")
    release.version = pygraphviz.__version__
    sys.modules["pygraphviz.release"] = pygraphviz.release = release
from dnsviz.commands import grok
grok.main(sys.argv[1:])
`
	return exec.Command(strings.Fields(interp)[0], append([]string{"-c", shim, "grok"}, args...)...)
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

func hasCode(errs []string, code string) bool {
	return slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, ": "+code+": ") })
}

// changeRRSIGs returns reply with change applied to each RRSIG in it.
func changeRRSIGs(reply []byte, change func(*dns.RRSIG)) []byte {
	m := new(dns.Msg)
	if err := m.Unpack(reply); err != nil {
		return reply
	}
	for _, rr := range slices.Concat(m.Answer, m.Ns, m.Extra) {
		if sig, ok := rr.(*dns.RRSIG); ok {
			change(sig)
		}
	}
	out, err := m.Pack()
	if err != nil {
		return reply
	}
	return out
}
