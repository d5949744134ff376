package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/pflag"

	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/dnsgslb/daemon"
	"github.com/anyctl/anyctl/dnsgslb/geo/geotest"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// dnsWait bounds every wait for a controller, a DNS server or an answer.
const dnsWait = time.Minute

// dnsCase is one query and the answer the example deployment gives it.
type dnsCase struct {
	desc   string
	name   string
	qtype  uint16
	client string // ECS subnet; empty for none
	rcode  int
	answer []string
	ns     []string
	// origin is the candidate explain must mark answered; empty when the
	// answer is not a GSLB choice.
	origin string
	// located is a word explain's Located line must hold.
	located string
}

// exampleCases are the example deployment's answers (deploy/examples) for
// clients of the test GeoIP database (geotest.Networks) and a PoP's cache
// network. rev is the snapshot revision, the SOA serial.
func exampleCases(rev int64) []dnsCase {
	soa := fmt.Sprintf("gslb.example.com. 30 IN SOA ns1.gslb.example.com. hostmaster.example.com. %d 3600 600 1209600 60", rev)
	return []dnsCase{
		{desc: "London gets eu-west (Dublin)", name: "origin.gslb.example.com.", qtype: dns.TypeA, client: "198.18.1.0/24",
			answer: []string{"origin.gslb.example.com. 30 IN A 203.0.113.20"}, origin: "eu-west", located: "London"},
		{desc: "New York gets us-east (Ashburn)", name: "origin.gslb.example.com.", qtype: dns.TypeA, client: "198.18.2.0/24",
			answer: []string{"origin.gslb.example.com. 30 IN A 203.0.113.10"}, origin: "us-east", located: "New York"},
		{desc: "Frankfurt over IPv6 gets eu-west", name: "origin.gslb.example.com.", qtype: dns.TypeAAAA, client: "2001:db8:4::/48",
			answer: []string{"origin.gslb.example.com. 30 IN AAAA 2001:db8:f00:2::10"}, origin: "eu-west", located: "Frankfurt"},
		{desc: "the London PoP's caches get eu-west", name: "accounts.gslb.example.com.", qtype: dns.TypeA, client: "203.0.113.152/29",
			answer: []string{"accounts.gslb.example.com. 30 IN A 203.0.113.20"}, origin: "eu-west", located: `PoP "london"`},
		{desc: "London gets eu-west's addresses as HTTPS hints", name: "origin.gslb.example.com.", qtype: dns.TypeHTTPS, client: "198.18.1.0/24",
			answer: []string{`origin.gslb.example.com. 30 IN HTTPS 1 . alpn="h2,h3" ipv4hint="203.0.113.20" ipv6hint="2001:db8:f00:2::10"`}, origin: "eu-west", located: "London"},
		{desc: "MX at the apex", name: "gslb.example.com.", qtype: dns.TypeMX,
			answer: []string{"gslb.example.com. 3600 IN MX 10 mx1.example.net.", "gslb.example.com. 3600 IN MX 20 mx2.example.net."}},
		{desc: "CAA at the apex", name: "gslb.example.com.", qtype: dns.TypeCAA,
			answer: []string{`gslb.example.com. 3600 IN CAA 0 issue "ca.example.net"`, `gslb.example.com. 3600 IN CAA 0 iodef "mailto:security@example.com"`}},
		{desc: "SOA at the apex", name: "gslb.example.com.", qtype: dns.TypeSOA,
			answer: []string{soa}},
		{desc: "NXDOMAIN for a missing name", name: "nope.gslb.example.com.", qtype: dns.TypeA, client: "198.18.1.0/24",
			rcode: dns.RcodeNameError, ns: []string{soa}},
	}
}

// TestDNSEndToEnd runs `anyctl dns` against a controller holding the
// example deployment and queries it over real UDP and TCP; `anyctl
// explain` agrees with every answer. Then the controller and the DNS server
// stop, and a new DNS server on the same state directory, with no
// controller to reach, answers the same.
func TestDNSEndToEnd(t *testing.T) {
	ctl := controllertest.Start(t)
	rev := applyExampleDeployment(t, ctl)
	geoip := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.Write(geoip, geotest.Networks); err != nil {
		t.Fatal(err)
	}
	stateDir := t.TempDir()
	first := startDNS(t, "--controller", ctl.Addr, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
		"--geoip", geoip, "--state-dir", stateDir, "--name", "e2e")
	rev = first.awaitRevision(t, rev)
	cases := exampleCases(rev)
	scopes := map[string]int{}
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			scopes[tc.desc] = first.check(t, tc)
		})
	}
	t.Run("metrics", func(t *testing.T) { checkDNSMetrics(t, first.metrics, rev) })
	t.Run("explain agrees", func(t *testing.T) {
		for _, tc := range cases {
			if tc.origin != "" {
				checkExplain(t, tc, scopes[tc.desc], "--server", ctl.Addr, "--geoip", geoip)
			}
		}
	})

	ctl.Stop(t)
	first.stop(t)
	nobody := "unix:" + filepath.Join(t.TempDir(), "no-controller.sock")
	second := startDNS(t, "--controller", nobody, "--listen", "127.0.0.1:0", "--metrics-listen", "",
		"--geoip", geoip, "--state-dir", stateDir)
	if got := second.Revision(); got != rev {
		t.Fatalf("restarted without a controller: serving revision %d, want the persisted %d", got, rev)
	}
	second.awaitRevision(t, rev)
	t.Run("without the controller", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.desc, func(t *testing.T) {
				if scope := second.check(t, tc); scope != scopes[tc.desc] {
					t.Errorf("ECS scope /%d, the first server said /%d", scope, scopes[tc.desc])
				}
				if tc.origin != "" {
					checkExplain(t, tc, scopes[tc.desc], "--server", nobody, "--geoip", geoip, "--dns-state-dir", stateDir)
				}
			})
		}
	})
}

// applyExampleDeployment applies deploy/examples and returns the revision
// it was written at.
func applyExampleDeployment(t *testing.T, ctl *controllertest.Running) int64 {
	t.Helper()
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatalf("example deployment: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), dnsWait)
	defer cancel()
	resp, err := ctl.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs})
	if err != nil {
		t.Fatalf("apply the example deployment: %v", err)
	}
	return resp.GetRevision()
}

// runningDNS is `anyctl dns` run as the command runs it.
type runningDNS struct {
	*daemon.Daemon
	udp, tcp string
	metrics  net.Addr
	cancel   context.CancelFunc
	done     chan error
}

// startDNS parses args with the command's own flags and runs the server
// until the test ends or stop.
func startDNS(t *testing.T, args ...string) *runningDNS {
	t.Helper()
	var f dnsFlags
	fs := pflag.NewFlagSet("dns", pflag.ContinueOnError)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("dns flags %q: %v", args, err)
	}
	var logs io.Writer = io.Discard
	if testing.Verbose() {
		logs = tLogWriter{t}
	}
	opts, err := f.options(logs)
	if err != nil {
		t.Fatalf("dns flags %q: %v", args, err)
	}
	dd, err := newDNS(context.Background(), opts)
	if err != nil {
		t.Fatalf("anyctl dns %q: %v", args, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &runningDNS{Daemon: dd, cancel: cancel, done: make(chan error, 1)}
	go func() { d.done <- d.Run(ctx) }()
	select {
	case <-d.Ready():
		udp, tcp := d.Server().Addr()
		d.udp, d.tcp, d.metrics = udp.String(), tcp.String(), d.MetricsAddr()
	case err := <-d.done:
		cancel()
		t.Fatalf("anyctl dns stopped before it was ready: %v", err)
	case <-time.After(dnsWait):
		cancel()
		t.Fatalf("anyctl dns not ready within %s", dnsWait)
	}
	t.Cleanup(func() { d.stop(t) })
	return d
}

// stop cancels the server and waits for it; calling it again is a no-op.
func (d *runningDNS) stop(t *testing.T) {
	t.Helper()
	if d.cancel == nil {
		return
	}
	d.cancel()
	d.cancel = nil
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("anyctl dns stopped with: %v", err)
		}
	case <-time.After(dnsWait):
		t.Errorf("anyctl dns did not stop within %s", dnsWait)
	}
}

// awaitRevision waits until the server answers from the full index of a
// snapshot at least at revision rev (a server's first index is a quick
// one, with narrower ECS scopes, until the full one replaces it), and
// returns the revision it answers from.
func (d *runningDNS) awaitRevision(t *testing.T, rev int64) int64 {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(dnsWait)
	for {
		if ix := d.Server().Index(); ix != nil && ix.Revision() >= rev && !ix.Quick() {
			return ix.Revision()
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("the DNS server serves revision %d after %s, want %d or later", d.Revision(), dnsWait, rev)
		}
	}
}

// check queries over UDP and TCP, compares both replies with the case and
// returns the ECS scope they carry.
func (d *runningDNS) check(t *testing.T, tc dnsCase) int {
	t.Helper()
	scope := -1
	for _, network := range []string{"udp", "tcp"} {
		addr := d.udp
		if network == "tcp" {
			addr = d.tcp
		}
		r := exchangeDNS(t, network, addr, query(tc.name, tc.qtype, tc.client))
		if r.Rcode != tc.rcode || !r.Authoritative {
			t.Errorf("%s: rcode %s aa=%v, want %s aa=true", network, dns.RcodeToString[r.Rcode], r.Authoritative, dns.RcodeToString[tc.rcode])
		}
		if got := rrStrings(r.Answer); !slices.Equal(got, tc.answer) {
			t.Errorf("%s: answer\n%s\nwant\n%s", network, strings.Join(got, "\n"), strings.Join(tc.answer, "\n"))
		}
		if got := rrStrings(r.Ns); !slices.Equal(got, tc.ns) {
			t.Errorf("%s: authority\n%s\nwant\n%s", network, strings.Join(got, "\n"), strings.Join(tc.ns, "\n"))
		}
		s := ecsScope(r)
		if scope >= 0 && s != scope {
			t.Errorf("tcp: ECS scope /%d, udp said /%d", s, scope)
		}
		scope = s
	}
	return scope
}

// query is a question with EDNS and, when client is not empty, ECS.
func query(name string, qtype uint16, client string) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	m.SetEdns0(1232, false)
	if client != "" {
		p := netip.MustParsePrefix(client)
		family := uint16(1)
		if p.Addr().Is6() {
			family = 2
		}
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_SUBNET{
			Code: dns.EDNS0SUBNET, Family: family, SourceNetmask: uint8(p.Bits()), Address: p.Addr().AsSlice(),
		})
	}
	return m
}

func exchangeDNS(t *testing.T, network, addr string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 10 * time.Second, UDPSize: 1232}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s query %s to %s: %v", network, m.Question[0].String(), addr, err)
	}
	return r
}

// rrStrings renders records with single spaces, as the cases spell them.
func rrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		out = append(out, strings.Join(strings.Fields(rr.String()), " "))
	}
	return out
}

// ecsScope is the reply's ECS scope prefix length, 0 without ECS.
func ecsScope(r *dns.Msg) int {
	if opt := r.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if s, ok := o.(*dns.EDNS0_SUBNET); ok {
				return int(s.SourceScope)
			}
		}
	}
	return 0
}

// checkExplain runs `anyctl explain` for the case and checks that it names
// the chosen origin, the location, the answer, TTL and ECS scope the DNS
// server sent.
func checkExplain(t *testing.T, tc dnsCase, scope int, flags ...string) {
	t.Helper()
	args := append(flags, "explain", strings.TrimSuffix(tc.name, "."), "--type", dns.TypeToString[tc.qtype], "--client", tc.client)
	code, out, errOut := runAnyctl(args, "")
	if code != ExitOK {
		t.Fatalf("anyctl %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	lines := strings.Split(out, "\n")
	want := []string{
		"Answer:     " + tc.answer[0],
		"TTL:        30s",
		fmt.Sprintf("ECS scope:  /%d: ", scope),
		"Located:    ",
	}
	for _, w := range want {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, w) }) {
			t.Errorf("explain %s from %s: no line starting %q in:\n%s", tc.name, tc.client, w, out)
		}
	}
	located := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "Located:") })
	if located >= 0 && !strings.Contains(lines[located], tc.located) {
		t.Errorf("explain %s from %s: %q does not name %q", tc.name, tc.client, lines[located], tc.located)
	}
	answered := slices.IndexFunc(lines, func(l string) bool {
		f := strings.Fields(l)
		return len(f) > 2 && f[0] == "1" && f[1] == tc.origin && strings.Contains(l, "answered")
	})
	if answered < 0 {
		t.Errorf("explain %s from %s: %s is not ranked 1 and answered in:\n%s", tc.name, tc.client, tc.origin, out)
	}
}

// checkDNSMetrics scrapes the metrics listener: the server's own metrics
// and the Go runtime's.
func checkDNSMetrics(t *testing.T, addr net.Addr, rev int64) {
	t.Helper()
	resp, err := http.Get("http://" + addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("anyctl_dns_snapshot_revision %d\n", rev),
		`anyctl_dns_queries_total{rcode="NOERROR",type="A",zone="gslb.example.com."}`,
		`anyctl_dns_answers_total{origin="eu-west"}`,
		"go_goroutines ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

// tLogWriter sends a daemon's log lines to the test log.
type tLogWriter struct{ t *testing.T }

func (w tLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
