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

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// childNS is where the child zone's name server listens in
// TestUnboundStubZone: a loopback address of its own, port 53, the only
// port a resolver follows a delegation to.
const childNS = "127.14.11.2"

// TestUnboundStubZone runs unbound (scripts/test-deps.sh installs it) as a
// recursive resolver with a stub zone pointing at our server, and asks it
// for each kind of data a real zone holds: a TXT value of 600 bytes, MX,
// SRV, CAA, HTTPS (static and GSLB), a name below a delegation (unbound follows the referral to the
// child zone's server) and a name origin (unbound follows the CNAME).
func TestUnboundStubZone(t *testing.T) {
	bin, err := exec.LookPath("unbound")
	if err != nil {
		for _, p := range []string{"/usr/sbin/unbound", "/sbin/unbound"} {
			if _, statErr := os.Stat(p); statErr == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		t.Fatalf("unbound is not installed (scripts/test-deps.sh installs the Debian package unbound): %v", err)
	}
	snap := gslbtest.RealZone()
	for _, sr := range snap.GetZones()[0].GetSpec().GetRecords() {
		switch {
		case sr.GetName() == "child":
			sr.Values = []string{"ns1.child"} // the resolver here reaches no other name server
		case sr.GetName() == "ns1.child" && sr.GetType() == v1.RecordType_RECORD_TYPE_A:
			sr.Values = []string{childNS}
		}
	}
	for _, r := range snap.GetRecords() {
		if r.GetSpec().GetName() == "cloud" {
			r.Spec.Policy = v1.Policy_POLICY_FAILOVER // unbound sends no ECS: choose the name origin for everyone
		}
	}
	ours := run(t, newServer(t, "", snap))

	serveZone(t, "udp", childNS+":53", "child.gslb.example.com.", "www.child.gslb.example.com. 60 IN A 192.0.2.201")
	serveZone(t, "tcp", childNS+":53", "child.gslb.example.com.", "www.child.gslb.example.com. 60 IN A 192.0.2.201")
	// The cloud load balancer's own zone, which unbound reaches by a stub
	// zone too: nothing outside loopback is asked.
	elb := serveZone(t, "udp", "127.0.0.1:0", "elb.example.net.", gslbtest.CloudLB+" 60 IN A 192.0.2.99")

	resolver, logPath := startUnbound(t, bin, map[string]string{
		gslbtest.Zone:      ours.udp,
		"elb.example.net.": elb,
	})

	tests := []struct {
		name   string
		qtype  uint16
		answer []string
	}{
		{"gslb.example.com.", dns.TypeMX, []string{"gslb.example.com. IN MX 10 mx1.gslb.example.com.", "gslb.example.com. IN MX 20 mx2.example.net."}},
		{"_sip._tcp.gslb.example.com.", dns.TypeSRV, []string{"_sip._tcp.gslb.example.com. IN SRV 10 5 5060 sip.example.net."}},
		{"gslb.example.com.", dns.TypeCAA, []string{`gslb.example.com. IN CAA 0 issue "ca.example.net; account=1"`}},
		{"www.gslb.example.com.", dns.TypeHTTPS, []string{`www.gslb.example.com. IN HTTPS 1 . alpn="h2,h3"`}},
		// unbound asks from 127.0.0.1, placed at the default location near
		// Ashburn: us-east.
		{"web.gslb.example.com.", dns.TypeHTTPS, []string{`web.gslb.example.com. IN HTTPS 1 . alpn="h2,h3" ipv4hint="` + gslbtest.USEast4 + `" ipv6hint="` + gslbtest.USEast6 + `"`}},
		{"www.child.gslb.example.com.", dns.TypeA, []string{"www.child.gslb.example.com. IN A 192.0.2.201"}},
		{"cloud.gslb.example.com.", dns.TypeA, []string{"cloud.gslb.example.com. IN CNAME " + gslbtest.CloudLB, gslbtest.CloudLB + " IN A 192.0.2.99"}},
	}
	m := new(dns.Msg)
	m.SetQuestion("sel._domainkey.gslb.example.com.", dns.TypeTXT)
	m.SetEdns0(1232, false)
	r := exchangeRetry(t, resolver, m, logPath)
	var dkim []string
	for _, rr := range r.Answer {
		if txt, ok := rr.(*dns.TXT); ok && len(txt.Txt) > 1 {
			dkim = append(dkim, strings.ReplaceAll(strings.Join(txt.Txt, ""), `\\`, `\`))
		}
	}
	if len(r.Answer) != 2 || len(dkim) != 1 || dkim[0] != gslbtest.DKIM {
		t.Errorf("unbound TXT of 600 bytes: %d records, joined strings of the long one %q; want 2 records, one of them the value", len(r.Answer), dkim)
	}
	for _, tc := range tests {
		m := new(dns.Msg)
		m.SetQuestion(tc.name, tc.qtype)
		r := exchangeRetry(t, resolver, m, logPath)
		if r.Rcode != dns.RcodeSuccess {
			t.Errorf("unbound %s %s: rcode %s\n%s", tc.name, dns.TypeToString[tc.qtype], dns.RcodeToString[r.Rcode], readLog(logPath))
			continue
		}
		// unbound rotates the order of records in a set.
		got := noTTL(r.Answer)
		slices.Sort(got)
		slices.Sort(tc.answer)
		if !equal(got, tc.answer) {
			t.Errorf("unbound %s %s: answer\n got %q\nwant %q", tc.name, dns.TypeToString[tc.qtype], got, tc.answer)
		} else {
			t.Logf("unbound %s %s: %q", tc.name, dns.TypeToString[tc.qtype], got)
		}
	}
}

// readLog returns unbound's log, for failure messages.
func readLog(path string) string {
	b, _ := os.ReadFile(path)
	return "unbound log:\n" + string(b)
}

// noTTL renders records without their TTL, which a cache counts down.
func noTTL(rs []dns.RR) []string {
	var out []string
	for _, r := range rs {
		f := strings.Fields(r.String())
		out = append(out, strings.Join(append(f[:1:1], f[2:]...), " "))
	}
	return out
}

// serveZone answers authoritatively for zone on addr ("host:port", port 0
// for any) with the given records, NXDOMAIN for other names in it, until
// the test ends; it returns the address it listens on.
func serveZone(t *testing.T, network, addr, zone string, records ...string) string {
	t.Helper()
	var rrs []dns.RR
	for _, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, rr)
	}
	soa, _ := dns.NewRR(zone + " 60 IN SOA ns1." + zone + " hostmaster." + zone + " 1 3600 600 86400 60")
	mux := dns.NewServeMux()
	mux.HandleFunc(zone, func(w dns.ResponseWriter, q *dns.Msg) {
		r := new(dns.Msg)
		r.SetReply(q)
		r.Authoritative = true
		name := strings.ToLower(q.Question[0].Name)
		found := false
		for _, rr := range rrs {
			if strings.ToLower(rr.Header().Name) == name {
				found = true
				if rr.Header().Rrtype == q.Question[0].Qtype {
					r.Answer = append(r.Answer, rr)
				}
			}
		}
		if !found && name != zone {
			r.Rcode = dns.RcodeNameError
		}
		if len(r.Answer) == 0 {
			r.Ns = []dns.RR{soa}
		}
		w.WriteMsg(r)
	})
	srv := &dns.Server{Net: network, Handler: mux}
	var bound string
	switch network {
	case "udp":
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			t.Fatalf("the child zone's server needs %s (a loopback address on port 53): %v", addr, err)
		}
		srv.PacketConn, bound = pc, pc.LocalAddr().String()
	default:
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("the child zone's server needs %s (a loopback address on port 53): %v", addr, err)
		}
		srv.Listener, bound = l, l.Addr().String()
	}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return bound
}

// startUnbound runs unbound on a free loopback port with a stub zone per
// entry of stubs (zone → "host:port"), and returns its address and log.
func startUnbound(t *testing.T, bin string, stubs map[string]string) (addr, logPath string) {
	t.Helper()
	return startUnboundWith(t, bin, stubs, "")
}

// startUnboundWith is startUnbound validating with a trust anchor (an
// "unbound trust-anchor:" value) unless anchor is empty.
func startUnboundWith(t *testing.T, bin string, stubs map[string]string, anchor string) (addr, logPath string) {
	t.Helper()
	return startUnboundECS(t, bin, stubs, anchor, "")
}

// startUnboundECS is startUnboundWith with unbound's subnetcache module
// when ecsTo is set: unbound then passes the client subnet of each query
// (the query's own ECS option, else its source address) on to the
// authoritative server at the address ecsTo, and caches answers by the
// scope the server returns.
func startUnboundECS(t *testing.T, bin string, stubs map[string]string, anchor, ecsTo string) (addr, logPath string) {
	t.Helper()
	anchorConf := ""
	if anchor != "" {
		anchorConf = fmt.Sprintf("\ttrust-anchor: %q\n", anchor)
	}
	return startUnboundConf(t, bin, stubs, anchorConf, ecsTo)
}

// startUnboundConf is startUnboundECS with the trust anchor given as
// unbound configuration lines (anchorConf; none: no validation), such as
// an auto-trust-anchor-file that unbound keeps by RFC 5011.
func startUnboundConf(t *testing.T, bin string, stubs map[string]string, anchorConf, ecsTo string) (addr, logPath string) {
	t.Helper()
	modules, extra := "iterator", ""
	if anchorConf != "" {
		modules, extra = "validator iterator", anchorConf+"\tval-log-level: 2\n"
	}
	if ecsTo != "" {
		modules = "subnetcache " + modules
		extra += fmt.Sprintf("\tsend-client-subnet: %s\n\tclient-subnet-always-forward: yes\n\tmax-client-subnet-ipv4: 24\n\tmax-client-subnet-ipv6: 56\n", ecsTo)
	}
	dir := t.TempDir()
	port := freePort(t)
	var conf strings.Builder
	fmt.Fprintf(&conf, `server:
	interface: 127.0.0.1
	port: %d
	do-ip6: no
	do-daemonize: no
	use-syslog: no
	logfile: %q
	verbosity: 1
	chroot: ""
	username: ""
	directory: %q
	pidfile: %q
	num-threads: 1
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	module-config: %q
	qname-minimisation: yes
	# A server on loopback that answered late once, while other tests
	# load the machine, is asked again soon rather than held down for
	# unbound's usual backoff.
	infra-keep-probing: yes
	infra-cache-max-rtt: 2000
%sremote-control:
	control-enable: no
`, port, filepath.Join(dir, "unbound.log"), dir, filepath.Join(dir, "unbound.pid"), modules, extra)
	for zone, addr := range stubs {
		host, p, _ := net.SplitHostPort(addr)
		fmt.Fprintf(&conf, "stub-zone:\n\tname: %q\n\tstub-addr: %s@%s\n", zone, host, p)
	}
	path := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(path, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath = filepath.Join(dir, "unbound.log")
	cmd := exec.Command(bin, "-d", "-c", path)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	// Await the resolver: it answers a query for its own stub zone's apex.
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("unbound exited: %v\n%s\n%s", err, out, readLog(logPath))
		default:
		}
		m := new(dns.Msg)
		m.SetQuestion(gslbtest.Zone, dns.TypeSOA)
		c := &dns.Client{Timeout: 500 * time.Millisecond}
		// A validator that cannot validate answers SERVFAIL, but answers.
		if r, _, err := c.Exchange(m, addr); err == nil && (r.Rcode == dns.RcodeSuccess || anchorConf != "") {
			return addr, logPath
		}
		if time.Now().After(deadline) {
			t.Fatalf("unbound does not answer on %s after 20 s\n%s\n%s", addr, out, readLog(logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freePort returns a loopback port free for both UDP and TCP a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		pc.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free loopback port for both UDP and TCP")
	return 0
}

// exchangeRetry asks the resolver over UDP, giving it a few tries: a
// recursive resolver may drop the first query of a name while it works.
func exchangeRetry(t *testing.T, addr string, m *dns.Msg, logPath string) *dns.Msg {
	t.Helper()
	c := &dns.Client{Timeout: 5 * time.Second}
	var err error
	for range 3 {
		var r *dns.Msg
		if r, _, err = c.Exchange(m, addr); err == nil {
			return r
		}
	}
	t.Fatalf("unbound %s: %v\n%s", m.Question[0].String(), err, readLog(logPath))
	return nil
}
