package dnsgslb_test

import (
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/compile"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	"github.com/anyctl/anyctl/manifest"
	"github.com/anyctl/anyctl/resource"
)

// TestUnboundValidatesTheExampleZoneFromEveryContinent serves the example
// deployment (deploy/examples, compiled as the controller compiles it),
// signed, and asks unbound for every name in it as clients in Tokyo,
// London and New York. unbound trusts only the zone's DS, and its
// subnetcache module passes each client's subnet on to the server, so the
// geo answers it validates are the ones for that client: every reply must
// carry the AD bit, and the nearest origin must differ by continent.
func TestUnboundValidatesTheExampleZoneFromEveryContinent(t *testing.T) {
	bin, err := exec.LookPath("unbound")
	if err != nil {
		bin = "/usr/sbin/unbound"
		if _, err := os.Stat(bin); err != nil {
			t.Fatal("unbound is not installed (scripts/test-deps.sh installs the Debian package unbound)")
		}
	}
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	snap := compile.GslbSnapshot(resource.NewState(objs...), compile.Observed{})
	snap.Revision = max(snap.GetRevision(), 1)
	const zone = "gslb.example.com."
	if got := snap.GetZones()[0].GetSpec().GetZone(); got != zone {
		t.Fatalf("example zone %q, want %q", got, zone)
	}
	dir := t.TempDir()
	k, err := dnssec.Generate(dir, zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ts := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, snap))
	host, _, _ := net.SplitHostPort(ts.udp)
	anchor := strings.ReplaceAll(k.DS().String(), "\t", " ")
	resolver, logPath := startUnboundECS(t, bin, map[string]string{zone: ts.udp}, anchor, host)

	ask := func(name string, qtype uint16, subnet string) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		m.SetEdns0(1232, true)
		pfx, err := netip.ParsePrefix(subnet)
		if err != nil {
			t.Fatal(err)
		}
		family, bits := uint16(1), uint8(24)
		if pfx.Addr().Is6() {
			family, bits = 2, 56
		}
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{
			Code: dns.EDNS0SUBNET, Family: family, SourceNetmask: bits, Address: pfx.Addr().AsSlice(),
		})
		return exchangeRetry(t, resolver, m, logPath)
	}
	names := []struct {
		name  string
		qtype uint16
		rcode int
	}{
		{zone, dns.TypeSOA, dns.RcodeSuccess},
		{zone, dns.TypeNS, dns.RcodeSuccess},
		{zone, dns.TypeTXT, dns.RcodeSuccess},
		{zone, dns.TypeMX, dns.RcodeSuccess},
		{zone, dns.TypeCAA, dns.RcodeSuccess},
		{zone, dns.TypeDNSKEY, dns.RcodeSuccess},
		{"www." + zone, dns.TypeA, dns.RcodeSuccess},
		{"www." + zone, dns.TypeAAAA, dns.RcodeSuccess},
		{"www." + zone, dns.TypeHTTPS, dns.RcodeSuccess},
		{"_sip._tcp." + zone, dns.TypeSRV, dns.RcodeSuccess},
		{"origin." + zone, dns.TypeA, dns.RcodeSuccess},
		{"origin." + zone, dns.TypeAAAA, dns.RcodeSuccess},
		{"origin." + zone, dns.TypeHTTPS, dns.RcodeSuccess},
		{"origin-fast." + zone, dns.TypeA, dns.RcodeSuccess},
		{"origin-weighted." + zone, dns.TypeA, dns.RcodeSuccess},
		{"origin-failover." + zone, dns.TypeA, dns.RcodeSuccess},
		{"edge." + zone, dns.TypeA, dns.RcodeSuccess},
		{"accounts." + zone, dns.TypeA, dns.RcodeSuccess},
		{"lab." + zone, dns.TypeDS, dns.RcodeSuccess}, // the unsigned delegation: no DS, proven
		{"origin." + zone, dns.TypeTXT, dns.RcodeSuccess},
		{"ns1." + zone, dns.TypeA, dns.RcodeSuccess},
		{"nowhere." + zone, dns.TypeA, dns.RcodeNameError},
	}
	clients := []struct{ where, v4, v6 string }{
		{"Tokyo", gslbtest.Tokyo, gslbtest.Tokyo6},
		{"London", gslbtest.London, gslbtest.London6},
		{"New York", gslbtest.NewYork, gslbtest.NewYork6},
	}
	nearest := map[string]string{}
	for _, c := range clients {
		for _, n := range names {
			subnet := c.v4
			if n.qtype == dns.TypeAAAA {
				subnet = c.v6
			}
			r := ask(n.name, n.qtype, subnet)
			if r.Rcode != n.rcode || !r.AuthenticatedData {
				t.Errorf("%s %s from %s through unbound: rcode %s, AD %v; want %s with AD\n%s", n.name, dns.TypeToString[n.qtype], c.where,
					dns.RcodeToString[r.Rcode], r.AuthenticatedData, dns.RcodeToString[n.rcode], readLog(logPath))
				continue
			}
			got := noTTL(r.Answer)
			slices.Sort(got)
			t.Logf("%s %s from %s: %s AD %q", n.name, dns.TypeToString[n.qtype], c.where, dns.RcodeToString[r.Rcode], got)
			if n.name == "origin."+zone && n.qtype == dns.TypeA {
				for _, rr := range r.Answer {
					if a, ok := rr.(*dns.A); ok {
						nearest[c.where] += a.A.String()
					}
				}
			}
		}
	}
	// The example's origins are in Ashburn, Dublin and Tokyo: each
	// continent's clients get their own.
	want := map[string]string{"Tokyo": "203.0.113.30", "London": "203.0.113.20", "New York": "203.0.113.10"}
	for where, addr := range want {
		if nearest[where] != addr {
			t.Errorf("origin A from %s through unbound: %q, want the origin at %s", where, nearest[where], addr)
		}
	}
}
