package dnsgslb_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestNSDAgrees serves the static part of the test zone (its SOA, name
// servers and static records; GslbRecords are left out, NSD cannot express
// them) from our server and from NSD (scripts/test-deps.sh installs it),
// an authoritative server written by others, asks both the same queries
// over UDP and compares rcode, AA and the three sections as sets of
// records, TTLs included. The replies are normalised first only where the
// RFCs allow both servers' answers; nsdNormalise lists the rules.
func TestNSDAgrees(t *testing.T) {
	bin := nsdBinary(t)
	snap := gslbtest.RealZone()
	snap.Records = nil
	// A value given twice, which a zone file may hold too.
	z := snap.GetZones()[0].GetSpec()
	z.Records = append(z.Records, &v1.StaticRecord{Name: "twice", Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"192.0.2.7", "192.0.2.7"}})
	ours := run(t, newServer(t, "", snap))
	theirs := startNSD(t, bin, nsdZoneFile(z))

	start := time.Now()
	c := &dns.Client{Timeout: 2 * time.Second, UDPSize: 1232}
	queries := nsdQueries()
	for _, q := range queries {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		m.RecursionDesired = false
		m.SetEdns0(1232, false)
		desc := q.name + " " + dns.Type(q.qtype).String()
		rOurs, _, err := c.Exchange(m, ours.udp)
		if err != nil {
			t.Errorf("%s: our server: %v", desc, err)
			continue
		}
		rNSD, _, err := c.Exchange(m, theirs)
		if err != nil {
			t.Errorf("%s: NSD: %v", desc, err)
			continue
		}
		got, want := nsdNormalise(rOurs, q.qtype), nsdNormalise(rNSD, q.qtype)
		if got != want {
			t.Errorf("%s: replies differ\nours:\n%s\nNSD:\n%s", desc, got, want)
		}
	}
	t.Logf("%d queries to both servers in %v", len(queries), time.Since(start))
}

// nsdNormalise renders a reply for comparison: rcode, AA and TC, then each
// section's records sorted, TTLs included, without the OPT record. NSD
// runs with minimal-responses, as our server answers: no apex NS RRset in
// the authority section of positive answers and no addresses of the name
// servers or of MX and SRV targets in the additional section, which RFC
// 1034 section 4.3.2 and RFC 2181 section 9 leave optional; glue in
// referrals, which is not optional, both send and is compared. The rules,
// each for a difference both RFCs allow:
//
//  1. Names are lower-cased, owners and names in record data: names
//     compare without case (RFC 4343), and a server compressing a name
//     onto the question's may send it in the question's case (NSD) or in
//     the zone's (ours, for a name at the delegation's name server).
//  2. ANY at a name with records: RFC 8482 section 4 lets a server answer
//     with one RRset of the name (NSD) or a synthesised HINFO (ours). Such
//     a reply is compared by its rcode and AA only (NSD's RRset may not
//     fit: TC); ANY at a missing name, an empty non-terminal (NODATA from
//     both), a CNAME's owner (the CNAME, rule 3) or a delegation is
//     compared whole.
//  3. A CNAME in the zone is not followed: NSD restarts at its target in
//     the zone (RFC 1034 section 4.3.2 step 3a), adding the target's
//     records, or for a type the target lacks its SOA; our server answers
//     the CNAME alone, since a target can be a GslbRecord whose answer
//     and ECS scope depend on the client, and the resolver asks for the
//     target itself (RFC 1034 section 5.3.3). A reply whose answer starts
//     with a CNAME owned by the question's name, for another type than
//     CNAME, is compared by that CNAME alone, without its authority and
//     additional sections, which hold the target's.
func nsdNormalise(r *dns.Msg, qtype uint16) string {
	var b strings.Builder
	fmt.Fprintf(&b, "rcode %s aa %t", dns.RcodeToString[r.Rcode], r.Authoritative)
	answer, ns, extra := r.Answer, r.Ns, r.Extra
	switch {
	case qtype == dns.TypeANY && (r.Truncated || len(answer) > 0 && answer[0].Header().Rrtype != dns.TypeCNAME):
		return b.String() + " (ANY: RFC 8482)\n"
	case qtype != dns.TypeCNAME && len(answer) > 0 && answer[0].Header().Rrtype == dns.TypeCNAME &&
		strings.EqualFold(answer[0].Header().Name, r.Question[0].Name):
		answer, ns, extra = answer[:1], nil, nil
	}
	fmt.Fprintf(&b, " tc %t\n", r.Truncated)
	section := func(name string, rs []dns.RR) {
		var lines []string
		for _, rr := range rs {
			if rr.Header().Rrtype != dns.TypeOPT {
				lines = append(lines, strings.Join(strings.Fields(lowerNames(rr).String()), " "))
			}
		}
		slices.Sort(lines)
		for _, l := range lines {
			fmt.Fprintf(&b, "%s: %s\n", name, l)
		}
	}
	section("answer", answer)
	section("authority", ns)
	section("additional", extra)
	return b.String()
}

// lowerNames returns a copy of rr with its owner and the names in its data
// lower-cased.
func lowerNames(rr dns.RR) dns.RR {
	rr = dns.Copy(rr)
	h := rr.Header()
	h.Name = strings.ToLower(h.Name)
	switch rr := rr.(type) {
	case *dns.NS:
		rr.Ns = strings.ToLower(rr.Ns)
	case *dns.CNAME:
		rr.Target = strings.ToLower(rr.Target)
	case *dns.MX:
		rr.Mx = strings.ToLower(rr.Mx)
	case *dns.SRV:
		rr.Target = strings.ToLower(rr.Target)
	case *dns.SOA:
		rr.Ns, rr.Mbox = strings.ToLower(rr.Ns), strings.ToLower(rr.Mbox)
	case *dns.SVCB:
		rr.Target = strings.ToLower(rr.Target)
	case *dns.HTTPS:
		rr.Target = strings.ToLower(rr.Target)
	}
	return rr
}

// nsdBinary returns the path of nsd, and skips the test without it.
func nsdBinary(t *testing.T) string {
	t.Helper()
	if bin, err := exec.LookPath("nsd"); err == nil {
		return bin
	}
	for _, p := range []string{"/usr/sbin/nsd", "/sbin/nsd"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("nsd is not installed (scripts/test-deps.sh installs the Debian package nsd)")
	return ""
}

// nsdZoneFile writes a zone's SOA, name servers (with the addresses of
// those inside it) and static records as a zone file. Record data is
// written as the snapshot holds it, for NSD to read, except TXT values:
// they are text, quoted here in character-strings of 255 bytes.
func nsdZoneFile(spec *v1.GslbZoneSpec) string {
	ttl := spec.GetDefaultTtl()
	if ttl == 0 {
		ttl = 300
	}
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN %s\n$TTL %d\n", spec.GetZone(), ttl)
	soa := spec.GetSoa()
	fmt.Fprintf(&b, "@ IN SOA %s %s %d %d %d %d %d\n", soa.GetMname(), soa.GetRname(),
		soa.GetSerial(), soa.GetRefresh(), soa.GetRetry(), soa.GetExpire(), soa.GetMinimum())
	for _, ns := range spec.GetNameServers() {
		fmt.Fprintf(&b, "@ IN NS %s\n", ns.GetName())
		for _, a := range ns.GetAddresses() {
			typ := "A"
			if strings.Contains(a, ":") {
				typ = "AAAA"
			}
			fmt.Fprintf(&b, "%s IN %s %s\n", ns.GetName(), typ, a)
		}
	}
	for _, sr := range spec.GetRecords() {
		typ := strings.TrimPrefix(sr.GetType().String(), "RECORD_TYPE_")
		rttl := sr.GetTtl()
		if rttl == 0 {
			rttl = ttl
		}
		for _, v := range sr.GetValues() {
			if sr.GetType() == v1.RecordType_RECORD_TYPE_TXT {
				v = quoteTXT(v)
			}
			fmt.Fprintf(&b, "%s %d IN %s %s\n", sr.GetName(), rttl, typ, v)
		}
	}
	return b.String()
}

// quoteTXT writes text as quoted character-strings of at most 255 bytes.
func quoteTXT(v string) string {
	var parts []string
	for {
		n := min(len(v), 255)
		s := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v[:n])
		parts = append(parts, `"`+s+`"`)
		if v = v[n:]; v == "" {
			return strings.Join(parts, " ")
		}
	}
}

// startNSD runs nsd serving the zone file for the test zone on a free
// loopback port until the test ends, and returns its address once it
// answers. Each of server is a line added to the server section of its
// configuration.
func startNSD(t *testing.T, bin, zone string, server ...string) string {
	t.Helper()
	dir := t.TempDir()
	zonePath := filepath.Join(dir, "zone")
	if err := os.WriteFile(zonePath, []byte(zone), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	conf := fmt.Sprintf(`server:
	ip-address: 127.0.0.1@%d
	port: %d
	do-ip6: no
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: %q
	database: ""
	zonelistfile: %q
	xfrdfile: %q
	xfrdir: %q
	pidfile: %q
	logfile: %q
	verbosity: 1
	minimal-responses: yes
%s
remote-control:
	control-enable: no
zone:
	name: %q
	zonefile: %q
`, port, port, dir, filepath.Join(dir, "zone.list"), filepath.Join(dir, "xfrd.state"), dir,
		filepath.Join(dir, "nsd.pid"), filepath.Join(dir, "nsd.log"), indent("\t", server), gslbtest.Zone, zonePath)
	confPath := filepath.Join(dir, "nsd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	runJudge(t, "nsd", bin, []string{"-d", "-c", confPath}, func() bool {
		m := new(dns.Msg)
		m.SetQuestion(gslbtest.Zone, dns.TypeSOA)
		c := &dns.Client{Timeout: 200 * time.Millisecond}
		r, _, err := c.Exchange(m, addr)
		return err == nil && r.Rcode == dns.RcodeSuccess && r.Authoritative
	}, func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "nsd.log"))
		return "nsd log:\n" + string(b)
	})
	return addr
}

// runJudge runs a judge server, bin with args in the foreground, until the
// test ends (SIGTERM, then SIGKILL after 5 s), and waits until ready says
// it answers. The test fails with the server's output, and what logs
// adds (if not nil), when it exits or is not ready within 10 s.
func runJudge(t *testing.T, name, bin string, args []string, ready func() bool, logs func() string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	out := &logBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var exit error
	go func() { exit = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	report := func() string {
		s := out.String()
		if logs != nil {
			s += "\n" + logs()
		}
		return s
	}
	deadline := time.Now().Add(10 * time.Second)
	for !ready() {
		select {
		case <-done:
			t.Fatalf("%s exited: %v\n%s", name, exit, report())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer on time (10 s)\n%s", name, report())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// indent joins lines, each after prefix.
func indent(prefix string, lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(prefix + l + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}
