package dnsgslb_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestKnotSignedAgrees signs the static part of the test zone (as
// TestNSDAgrees serves it) with our server and with Knot DNS, each with a
// key of its own, asks both TestNSDAgrees's queries with DO, and compares
// rcode, AA, TC and the three sections record by record: the records but
// RRSIGs whole, TTLs included; an RRSIG by owner, type covered, labels and
// TTL (its key, times and signature differ by design). NSEC chains,
// NXDOMAIN and NODATA proofs, referrals and the RRSIGs of every section
// must agree. The rules where both servers' answers are allowed:
//
//  1. ANY: RFC 8482, as in TestNSDAgrees; not asked.
//  2. A CNAME in the zone: Knot follows it, ours answers it alone (see
//     TestNSDAgrees's rule 3): compared by the CNAME and its RRSIGs.
//  3. The addresses of MX and SRV targets, which Knot adds to the
//     additional section (RFC 2181 section 9 leaves them optional).
func TestKnotSignedAgrees(t *testing.T) {
	bin := lookBinary("knotd")
	if bin == "" {
		t.Skip("knotd is not installed (scripts/test-deps.sh installs the Debian package knot)")
	}
	snap := gslbtest.RealZone()
	snap.Records = nil
	theirs := startKnotSigned(t, bin, nsdZoneFile(snap.GetZones()[0].GetSpec()))
	dir := t.TempDir()
	if _, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	ours := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, snap))

	c := &dns.Client{Timeout: 2 * time.Second, UDPSize: 1232}
	asked := 0
	for _, q := range nsdQueries() {
		if q.qtype == dns.TypeANY {
			continue
		}
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		m.RecursionDesired = false
		m.SetEdns0(1232, true)
		desc := q.name + " " + dns.TypeToString[q.qtype]
		rOurs, _, err := c.Exchange(m, ours.udp)
		if err != nil {
			t.Errorf("%s: our server: %v", desc, err)
			continue
		}
		rKnot, _, err := c.Exchange(m, theirs)
		if err != nil {
			t.Errorf("%s: Knot: %v", desc, err)
			continue
		}
		asked++
		if got, want := signedShape(rOurs, q.qtype), signedShape(rKnot, q.qtype); got != want {
			t.Errorf("%s: replies differ\nours:\n%s\nKnot:\n%s", desc, got, want)
		}
	}
	t.Logf("%d queries to both servers", asked)
}

// signedShape renders a signed reply for TestKnotSignedAgrees.
func signedShape(r *dns.Msg, qtype uint16) string {
	var b strings.Builder
	fmt.Fprintf(&b, "rcode %s aa %t tc %t\n", dns.RcodeToString[r.Rcode], r.Authoritative, r.Truncated)
	answer, ns, extra := r.Answer, r.Ns, r.Extra
	if qtype != dns.TypeCNAME && len(answer) > 0 && answer[0].Header().Rrtype == dns.TypeCNAME {
		owner := answer[0].Header().Name
		answer = slices.DeleteFunc(slices.Clone(answer), func(rr dns.RR) bool { return !strings.EqualFold(rr.Header().Name, owner) })
		ns, extra = nil, nil
	}
	if qtype == dns.TypeMX || qtype == dns.TypeSRV {
		extra = nil
	}
	for _, sec := range []struct {
		name string
		rrs  []dns.RR
	}{{"answer", answer}, {"authority", ns}, {"additional", extra}} {
		var lines []string
		for _, rr := range sec.rrs {
			switch rr := rr.(type) {
			case *dns.OPT:
			case *dns.RRSIG:
				lines = append(lines, fmt.Sprintf("%s %d RRSIG %s labels %d", strings.ToLower(rr.Hdr.Name), rr.Hdr.Ttl, dns.TypeToString[rr.TypeCovered], rr.Labels))
			default:
				lines = append(lines, strings.Join(strings.Fields(lowerNames(rr).String()), " "))
			}
		}
		slices.Sort(lines)
		for _, l := range lines {
			fmt.Fprintf(&b, "%s: %s\n", sec.name, l)
		}
	}
	return b.String()
}
