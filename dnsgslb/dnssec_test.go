package dnsgslb_test

import (
	"fmt"
	"net"
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
	"github.com/anyctl/anyctl/dnsgslb/index"
)

// signedServer runs a server signing the test zone with a new key, and
// returns it with a trust anchor file for the key.
func signedServer(t *testing.T) (*testServer, string) {
	t.Helper()
	dir := t.TempDir()
	k, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, gslbtest.RealZone())), anchorFile(t, k)
}

func anchorFile(t *testing.T, k *dnssec.Key) string {
	t.Helper()
	d := k.DS()
	path := filepath.Join(t.TempDir(), "anchor.conf")
	text := fmt.Sprintf("trust-anchors {\n\t%s static-ds %d %d %d \"%s\";\n};\n", gslbtest.Zone, d.KeyTag, d.Algorithm, d.DigestType, d.Digest)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// delv asks delv, a validating resolver nobody here wrote, to resolve and
// validate name against the anchor, and returns its output.
func delv(t *testing.T, ts *testServer, anchor, name, qtype string) string {
	t.Helper()
	host, port, _ := strings.Cut(ts.udp, ":")
	out, err := exec.Command("delv", "@"+host, "-p", port, "-a", anchor, "+root="+strings.TrimSuffix(gslbtest.Zone, "."), name, qtype).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "resolution failed") {
		t.Fatalf("delv %s %s: %v\n%s", name, qtype, err, out)
	}
	return string(out)
}

func needDelv(t *testing.T) {
	if _, err := exec.LookPath("delv"); err != nil {
		t.Fatal("delv is missing: make test-deps installs bind9-dnsutils")
	}
}

// TestSignedZoneValidates has delv validate positive answers (static and
// GSLB, IPv4 and IPv6, MX, CAA, SRV, a GSLB HTTPS record), the DNSKEY
// RRset, NODATA (a name with other types, a GSLB name, an empty
// non-terminal, the DS of an unsigned child zone) and NXDOMAIN, then a health change
// and the answer after it; and refuse them all against another key.
func TestSignedZoneValidates(t *testing.T) {
	needDelv(t)
	ts, anchor := signedServer(t)
	z := gslbtest.Zone
	cases := []struct{ name, qtype, want string }{
		{"www." + z, "A", "fully validated"},
		{"nearest." + z, "A", "fully validated"},
		{"nearest." + z, "AAAA", "fully validated"},
		{z, "DNSKEY", "fully validated"},
		{z, "NS", "fully validated"},
		{"txt." + z, "TXT", "fully validated"},
		{"www." + z, "TXT", "negative response, fully validated"},
		{"nearest." + z, "TXT", "negative response, fully validated"},
		{"deep." + z, "A", "negative response, fully validated"},
		{"nope." + z, "A", "negative response, fully validated"},
		{"a.b.c.nope." + z, "AAAA", "negative response, fully validated"},
		{z, "MX", "fully validated"},
		{z, "CAA", "fully validated"},
		{"web." + z, "HTTPS", "fully validated"},
		{"_sip._tcp." + z, "SRV", "fully validated"},
		{"child." + z, "DS", "negative response, fully validated"},
	}
	for _, tc := range cases {
		if out := delv(t, ts, anchor, tc.name, tc.qtype); !strings.Contains(out, tc.want) {
			t.Errorf("%s %s: want %q:\n%s", tc.name, tc.qtype, tc.want, out)
		}
	}

	// A health change: the answer changes, and still validates.
	before := delv(t, ts, anchor, "failover."+z, "A")
	snap := gslbtest.RealZone()
	snap.Revision++
	for _, o := range snap.GetOrigins() {
		if o.GetName() == "eu-west" {
			o.Healthy = false
		}
	}
	if err := ts.Update(snap); err != nil {
		t.Fatal(err)
	}
	after := delv(t, ts, anchor, "failover."+z, "A")
	if !strings.Contains(after, "fully validated") || addrs(after) == addrs(before) {
		t.Errorf("after eu-west went down: want another address, fully validated:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// Against a trust anchor of another key, nothing validates.
	other, err := dnssec.Generate(t.TempDir(), z, dns.ECDSAP256SHA256, dnssec.CSK, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	wrong := anchorFile(t, other)
	for _, tc := range cases[:3] {
		if out := delv(t, ts, wrong, tc.name, tc.qtype); strings.Contains(out, "fully validated") || !strings.Contains(out, "resolution failed") {
			t.Errorf("%s %s against another key's anchor: want a validation failure:\n%s", tc.name, tc.qtype, out)
		}
	}
}

// addrs are the addresses of the A records in delv's output.
func addrs(out string) string {
	var a []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 5 && f[3] == "A" {
			a = append(a, f[4])
		}
	}
	return strings.Join(a, " ")
}

// TestUnboundValidatesSignedZone has unbound, a validating resolver nobody
// here wrote, resolve the signed zone through a stub zone with the key's
// DS as its trust anchor: positive answers, NODATA and NXDOMAIN come with
// the AD bit. With another key's DS as anchor, and through a proxy that
// changes one byte of each signature, it answers SERVFAIL. It does so with
// the answers compiled per location class and with the records that can
// be answered live assembled at query time.
func TestUnboundValidatesSignedZone(t *testing.T) {
	inBothAnswerModes(t, unboundValidatesSignedZone)
}

// inBothAnswerModes runs f twice: with the default live budget, under
// which a small zone's answers are compiled per location class, and with
// every record that can be answered live assembled at query time.
func inBothAnswerModes(t *testing.T, f func(t *testing.T)) {
	t.Run("compiled", f)
	t.Run("live", func(t *testing.T) {
		saved := index.SetLiveBudget(0)
		defer index.SetLiveBudget(saved)
		f(t)
	})
}

func unboundValidatesSignedZone(t *testing.T) {
	bin, err := exec.LookPath("unbound")
	if err != nil {
		bin = "/usr/sbin/unbound"
		if _, err := os.Stat(bin); err != nil {
			t.Fatal("unbound is not installed (scripts/test-deps.sh installs the Debian package unbound)")
		}
	}
	dir := t.TempDir()
	k, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ts := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, gslbtest.RealZone()))
	anchorOf := func(k *dnssec.Key) string { return strings.ReplaceAll(k.DS().String(), "\t", " ") }
	z := gslbtest.Zone
	ask := func(addr, logPath, name string, qtype uint16) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		m.SetEdns0(1232, true)
		return exchangeRetry(t, addr, m, logPath)
	}

	addr, logPath := startUnboundWith(t, bin, map[string]string{z: ts.udp}, anchorOf(k))
	for _, tc := range []struct {
		name  string
		qtype uint16
		rcode int
	}{
		{"nearest." + z, dns.TypeA, dns.RcodeSuccess},
		{"www." + z, dns.TypeAAAA, dns.RcodeSuccess},
		{"txt." + z, dns.TypeTXT, dns.RcodeSuccess},
		{"www." + z, dns.TypeTXT, dns.RcodeSuccess},
		{"nope." + z, dns.TypeA, dns.RcodeNameError},
		{"www." + z, dns.TypeNSEC, dns.RcodeSuccess},
		{"cloud." + z, dns.TypeCNAME, dns.RcodeSuccess},
	} {
		r := ask(addr, logPath, tc.name, tc.qtype)
		if r.Rcode != tc.rcode || !r.AuthenticatedData {
			t.Errorf("%s %s through unbound: rcode %s, AD %v; want %s with AD\n%s", tc.name, dns.TypeToString[tc.qtype],
				dns.RcodeToString[r.Rcode], r.AuthenticatedData, dns.RcodeToString[tc.rcode], readLog(logPath))
		}
	}

	other, err := dnssec.Generate(t.TempDir(), z, dns.ECDSAP256SHA256, dnssec.CSK, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	wrongAddr, wrongLog := startUnboundWith(t, bin, map[string]string{z: ts.udp}, anchorOf(other))
	if r := ask(wrongAddr, wrongLog, "nearest."+z, dns.TypeA); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("against another key's DS: rcode %s, want SERVFAIL", dns.RcodeToString[r.Rcode])
	}

	tampered := tamperingProxy(t, ts.udp)
	tamperAddr, tamperLog := startUnboundWith(t, bin, map[string]string{z: tampered}, anchorOf(k))
	if r := ask(tamperAddr, tamperLog, "nearest."+z, dns.TypeA); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("through a proxy that changes the signatures: rcode %s, want SERVFAIL", dns.RcodeToString[r.Rcode])
	}
}

// tamperingProxy forwards UDP queries to server and changes one byte of
// each RRSIG's signature in the replies; it returns its address.
func tamperingProxy(t *testing.T, server string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			reply, err := dns.Exchange(func() *dns.Msg { m := new(dns.Msg); m.Unpack(buf[:n]); return m }(), server)
			if err != nil {
				continue
			}
			for _, rr := range slices.Concat(reply.Answer, reply.Ns) {
				if sig, ok := rr.(*dns.RRSIG); ok {
					b := []byte(sig.Signature)
					b[len(b)/2] ^= 1 // base64 text: flip a letter's case or a digit
					if b[len(b)/2] == '+' || b[len(b)/2] == '/' || b[len(b)/2] == '=' {
						b[len(b)/2] = 'A'
					}
					sig.Signature = string(b)
				}
			}
			out, err := reply.Pack()
			if err != nil {
				continue
			}
			pc.WriteTo(out, from)
		}
	}()
	return pc.LocalAddr().String()
}
