package dnsgslb_test

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestRRSIGQuery: a query for type RRSIG at a name with RRsets in a signed
// zone is REFUSED, with or without DO, as from PowerDNS, another server
// that signs its answers as it sends them: the RRSIGs there are made per
// answer, and a GslbRecord's answer is the client's, so there is no one
// RRSIG RRset to send; NODATA would be a lie its own NSEC record (whose
// type bitmap lists RRSIG) gives away, which delv rejects as bogus. (Knot
// DNS, whose answers are the same for every client, answers with the
// RRSIGs of one RRset, as RFC 8482 does ANY.) Where no RRSIG is, at an
// empty non-terminal or a missing name, the denial is sent and validates;
// in an unsigned zone it is NODATA (TestJudgedEdges).
func TestRRSIGQuery(t *testing.T) {
	needDelv(t)
	ts, anchor := signedServer(t)
	z := "gslb.example.com."
	for _, name := range []string{z, "www." + z, "nearest." + z, "alias." + z, "ns1." + z} {
		for _, do := range []bool{false, true} {
			for _, network := range []string{"udp", "tcp"} {
				m := msg(t, name, dns.TypeRRSIG, "")
				m.SetEdns0(1232, do)
				r := ts.exchange(t, network, m)
				if r.Rcode != dns.RcodeRefused || len(r.Answer)+len(r.Ns) != 0 {
					t.Errorf("%s RRSIG, DO %v, over %s: %s with %d answer and %d authority records, want REFUSED and none",
						name, do, network, rcodeName(r.Rcode), len(r.Answer), len(r.Ns))
				}
			}
		}
	}
	for _, name := range []string{"deep." + z, "missing." + z} {
		if out := delv(t, ts, anchor, name, "RRSIG"); !strings.Contains(out, "negative response, fully validated") {
			t.Errorf("%s RRSIG: want a validated denial:\n%s", name, out)
		}
	}
	// NSEC at an owner of the chain is still answered with it.
	if out := delv(t, ts, anchor, "www."+z, "NSEC"); !strings.Contains(out, "fully validated") || !strings.Contains(out, "NSEC") {
		t.Errorf("www NSEC: want the validated NSEC:\n%s", out)
	}
}
