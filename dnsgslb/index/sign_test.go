package index

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	"github.com/anyctl/anyctl/dnsgslb/wire"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

var signedAt = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

// signedIndex compiles the test snapshot, with an AAAA record that has
// nothing to answer, its zone signed by a new key.
func signedIndex(t *testing.T) (*Index, *dnssec.Key) {
	t.Helper()
	return walkIndex(t, func(*v1.GslbZoneSpec) {})
}

// ask answers a query from ix and unpacks the reply.
func ask(t *testing.T, ix *Index, name string, qtype uint16, do bool) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, do)
	pkt, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	var q wire.Query
	wire.Parse(pkt, &q)
	out, _ := ix.Respond(make([]byte, 0, 4096), &q, netip.MustParseAddr("192.0.2.1"), 4096)
	r := new(dns.Msg)
	if err := r.Unpack(out); err != nil {
		t.Fatalf("%s %s: unpack reply: %v", name, dns.TypeToString[qtype], err)
	}
	return r
}

// verifySection checks that every RRset of a section is signed by key and
// that the signatures verify, and returns the section's NSEC records.
func verifySection(t *testing.T, what string, key *dnssec.Key, rrs []dns.RR) []*dns.NSEC {
	t.Helper()
	sets := map[string][]dns.RR{}
	var sigs []*dns.RRSIG
	var nsecs []*dns.NSEC
	for _, rr := range rrs {
		if s, ok := rr.(*dns.RRSIG); ok {
			sigs = append(sigs, s)
			continue
		}
		if n, ok := rr.(*dns.NSEC); ok {
			nsecs = append(nsecs, n)
		}
		k := strings.ToLower(rr.Header().Name) + "/" + dns.TypeToString[rr.Header().Rrtype]
		sets[k] = append(sets[k], rr)
	}
	for k, set := range sets {
		i := slices.IndexFunc(sigs, func(s *dns.RRSIG) bool {
			return strings.EqualFold(s.Hdr.Name, set[0].Header().Name) && s.TypeCovered == set[0].Header().Rrtype
		})
		if i < 0 {
			t.Errorf("%s: RRset %s has no RRSIG", what, k)
			continue
		}
		if err := sigs[i].Verify(key.DNSKEY, set); err != nil {
			t.Errorf("%s: RRset %s: RRSIG does not verify: %v", what, k, err)
		}
		if !sigs[i].ValidityPeriod(signedAt) {
			t.Errorf("%s: RRset %s: RRSIG not valid at %v", what, k, signedAt)
		}
	}
	return nsecs
}

func covers(n *dns.NSEC, name string) bool {
	if dnssec.Compare(n.NextDomain, n.Hdr.Name) <= 0 { // the last NSEC
		return dnssec.Compare(n.Hdr.Name, name) < 0
	}
	return dnssec.Compare(n.Hdr.Name, name) < 0 && dnssec.Compare(name, n.NextDomain) < 0
}

func TestSignedAnswersVerify(t *testing.T) {
	ix, key := signedIndex(t)
	z := gslbtest.Zone
	for _, tc := range []struct {
		name  string
		qtype uint16
		rcode int
		// proves is what the NSEC records must show: "nodata" (an NSEC of
		// the name without the type), "nxdomain" (NSECs covering the name
		// and the wildcard), or "" (none).
		proves string
	}{
		{"www." + z, dns.TypeA, dns.RcodeSuccess, ""},
		{"nearest." + z, dns.TypeA, dns.RcodeSuccess, ""},
		{"nearest." + z, dns.TypeAAAA, dns.RcodeSuccess, ""},
		{z, dns.TypeDNSKEY, dns.RcodeSuccess, ""},
		{z, dns.TypeSOA, dns.RcodeSuccess, ""},
		{z, dns.TypeNS, dns.RcodeSuccess, ""},
		{"www." + z, dns.TypeTXT, dns.RcodeSuccess, "nodata"},
		{"v4only." + z, dns.TypeAAAA, dns.RcodeSuccess, "nodata"},
		{"deep." + z, dns.TypeA, dns.RcodeSuccess, "ent"},
		{"nope." + z, dns.TypeA, dns.RcodeNameError, "nxdomain"},
		{"x.nope.deep." + z, dns.TypeA, dns.RcodeNameError, "nxdomain"},
		{z, dns.TypeMX, dns.RcodeSuccess, ""},
		{z, dns.TypeCAA, dns.RcodeSuccess, ""},
		{"web." + z, dns.TypeHTTPS, dns.RcodeSuccess, ""},
		{"_sip._tcp." + z, dns.TypeSRV, dns.RcodeSuccess, ""},
		{"cloud." + z, dns.TypeA, dns.RcodeSuccess, ""},
		{"child." + z, dns.TypeDS, dns.RcodeSuccess, "nodata"},
		{"www.child." + z, dns.TypeA, dns.RcodeSuccess, "referral"},
	} {
		what := tc.name + " " + dns.TypeToString[tc.qtype]
		r := ask(t, ix, tc.name, tc.qtype, true)
		if r.Rcode != tc.rcode {
			t.Errorf("%s: rcode %s, want %s", what, dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
			continue
		}
		if tc.proves == "" && len(r.Answer) == 0 {
			t.Errorf("%s: no answer", what)
		}
		verifySection(t, what+" answer", key, r.Answer)
		authority := r.Ns
		if tc.proves == "referral" {
			// The child's NS records are not the parent's to sign.
			authority = slices.DeleteFunc(slices.Clone(r.Ns), func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeNS })
		}
		nsecs := verifySection(t, what+" authority", key, authority)
		switch tc.proves {
		case "referral":
			if r.Authoritative || len(nsecs) != 1 || nsecs[0].Hdr.Name != "child."+z ||
				!slices.Contains(nsecs[0].TypeBitMap, dns.TypeNS) || slices.Contains(nsecs[0].TypeBitMap, dns.TypeDS) {
				t.Errorf("%s: want a referral with the cut's NSEC proving there is no DS: %v", what, r)
			}
		case "nodata":
			if len(nsecs) != 1 || !strings.EqualFold(nsecs[0].Hdr.Name, tc.name) || slices.Contains(nsecs[0].TypeBitMap, tc.qtype) {
				t.Errorf("%s: NSEC %v does not prove there is no %s", what, nsecs, dns.TypeToString[tc.qtype])
			}
		case "ent":
			if len(nsecs) != 1 || !covers(nsecs[0], tc.name) {
				t.Errorf("%s: NSEC %v does not cover the empty non-terminal", what, nsecs)
			}
		case "nxdomain":
			if !slices.ContainsFunc(nsecs, func(n *dns.NSEC) bool { return covers(n, tc.name) }) {
				t.Errorf("%s: no NSEC of %v covers the name", what, nsecs)
			}
			// The closest encloser is the deepest existing ancestor.
			enc := z
			if strings.HasSuffix(tc.name, "deep."+z) {
				enc = "deep." + z
			}
			if !slices.ContainsFunc(nsecs, func(n *dns.NSEC) bool { return covers(n, "*."+enc) }) {
				t.Errorf("%s: no NSEC of %v covers the wildcard *.%s", what, nsecs, enc)
			}
		}
		plain := ask(t, ix, tc.name, tc.qtype, false)
		// Without DO, no DNSSEC records (RFC 4035 section 3.2.1).
		for _, rr := range slices.Concat(plain.Answer, plain.Ns) {
			if rt := rr.Header().Rrtype; rt == dns.TypeRRSIG || rt == dns.TypeNSEC {
				t.Errorf("%s without DO: %s in the reply", what, dns.TypeToString[rt])
			}
		}
	}
}

func TestExplainShowsTheSignatures(t *testing.T) {
	ix, key := signedIndex(t)
	ex := ix.Explain("nearest."+gslbtest.Zone, dns.TypeA, netip.MustParsePrefix("81.2.69.0/24"))
	want := fmt.Sprintf("nearest.%s A: key %d (ECDSAP256SHA256), valid 2026-12-05T11:00:00Z to 2026-12-19T12:00:00Z", gslbtest.Zone, key.Tag())
	if len(ex.Signatures) != 1 || ex.Signatures[0] != want {
		t.Errorf("signatures %q, want [%q]", ex.Signatures, want)
	}
	for _, rr := range ex.Answer {
		if strings.Contains(rr, "RRSIG") {
			t.Errorf("answer lists the RRSIG: %q", ex.Answer)
		}
	}
}

// TestSignedAnswersDoNotAllocate answers queries with the DO bit from a
// signed index: positive, NODATA and NXDOMAIN (assembled at query time)
// make no allocation.
func TestSignedAnswersDoNotAllocate(t *testing.T) {
	ix, _ := signedIndex(t)
	dst := make([]byte, 0, 4096)
	src := netip.MustParseAddr("192.0.2.1")
	for _, tc := range []struct {
		name  string
		qtype uint16
	}{{"nearest.", dns.TypeA}, {"www.", dns.TypeTXT}, {"x.nope.deep.", dns.TypeA}, {"", dns.TypeDNSKEY}} {
		m := new(dns.Msg)
		m.SetQuestion(tc.name+gslbtest.Zone, tc.qtype)
		m.SetEdns0(1232, true)
		pkt, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		var q wire.Query
		wire.Parse(pkt, &q)
		if n := testing.AllocsPerRun(100, func() { ix.Respond(dst, &q, src, 1232) }); n != 0 {
			t.Errorf("%s%s %s with DO: %.1f allocations per query, want 0", tc.name, gslbtest.Zone, dns.TypeToString[tc.qtype], n)
		}
	}
}

// TestSignedAnswersTruncate: a signed answer larger than the client's UDP
// size is sent truncated (TC, no records), so the client asks again over
// TCP, where it gets the whole signed answer.
func TestSignedAnswersTruncate(t *testing.T) {
	ix, key := signedIndex(t)
	name := "www." + gslbtest.Zone
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	m.SetEdns0(512, true)
	pkt, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	var q wire.Query
	wire.Parse(pkt, &q)
	src := netip.MustParseAddr("192.0.2.1")
	// An answer and its RRSIG take more than the 100 bytes allowed here.
	small, _ := ix.Respond(make([]byte, 0, 4096), &q, src, 100)
	r := new(dns.Msg)
	if err := r.Unpack(small); err != nil || !r.Truncated || len(r.Answer) != 0 {
		t.Fatalf("over 100 bytes: TC %v, %d answers (%v), want TC and none", r.Truncated, len(r.Answer), err)
	}
	full, _ := ix.Respond(make([]byte, 0, 65535), &q, src, 65535)
	r = new(dns.Msg)
	if err := r.Unpack(full); err != nil || r.Truncated {
		t.Fatalf("over TCP's size: TC %v (%v)", r.Truncated, err)
	}
	verifySection(t, name+" A over TCP", key, r.Answer)
	if !slices.ContainsFunc(r.Answer, func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeRRSIG }) {
		t.Errorf("the whole answer has no RRSIG: %v", r.Answer)
	}
}

// TestSignedNameOriginCNAME: in a signed zone, a GslbRecord answered with
// a CNAME to its name origin carries the CNAME's RRSIG to a DO query, as
// every other answer does: a validating resolver takes an unsigned CNAME
// in a signed zone for bogus and fails its clients.
func TestSignedNameOriginCNAME(t *testing.T) {
	ix, key := signedIndex(t)
	client := netip.MustParsePrefix(gslbtest.PopTokyo)
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeHTTPS} {
		r := askFromDO(t, ix, "cloud."+gslbtest.Zone, qtype, client, true)
		if len(r.Answer) == 0 || r.Answer[0].Header().Rrtype != dns.TypeCNAME {
			t.Fatalf("%s from %s: answer %v, want the CNAME to %s", dns.TypeToString[qtype], client, r.Answer, gslbtest.CloudLB)
		}
		if len(r.Answer) != 2 {
			t.Errorf("%s from %s: answer %v, want the CNAME and its RRSIG", dns.TypeToString[qtype], client, r.Answer)
		}
		verifySection(t, dns.TypeToString[qtype]+" answer", key, r.Answer)
		if r := askFromDO(t, ix, "cloud."+gslbtest.Zone, qtype, client, false); len(r.Answer) != 1 {
			t.Errorf("%s from %s without DO: answer %v, want the CNAME alone", dns.TypeToString[qtype], client, r.Answer)
		}
	}
}

// TestCNAMEQueryAtNameOrigin: a query for type CNAME at a name whose
// GslbRecords rank a name origin is answered with the CNAME the other
// types get, signed, for the clients it is ranked first for; the others
// get a NODATA whose proof holds, scoped as the answer, so that a
// resolver does not keep it for the first ones.
func TestCNAMEQueryAtNameOrigin(t *testing.T) {
	ix, key := signedIndex(t)
	name := "cloud." + gslbtest.Zone
	near := netip.MustParsePrefix(gslbtest.PopTokyo)
	r := askFromDO(t, ix, name, dns.TypeCNAME, near, true)
	if len(r.Answer) != 2 || r.Answer[0].Header().Rrtype != dns.TypeCNAME || r.Answer[0].(*dns.CNAME).Target != gslbtest.CloudLB {
		t.Fatalf("CNAME from %s: answer %v, want the CNAME to %s and its RRSIG", near, r.Answer, gslbtest.CloudLB)
	}
	verifySection(t, "CNAME answer", key, r.Answer)
	if a := askFromDO(t, ix, name, dns.TypeA, near, true); a.Answer[0].String() != r.Answer[0].String() {
		t.Errorf("CNAME from %s: %v, but an A query gets %v", near, r.Answer[0], a.Answer[0])
	}
	far := netip.MustParsePrefix(gslbtest.London)
	r = askFromDO(t, ix, name, dns.TypeCNAME, far, true)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Fatalf("CNAME from %s: %s %v, want NODATA", far, dns.RcodeToString[r.Rcode], r.Answer)
	}
	nsecs := verifySection(t, "CNAME NODATA authority", key, r.Ns)
	if len(nsecs) != 1 || nsecs[0].Header().Name != name || slices.Contains(nsecs[0].TypeBitMap, dns.TypeCNAME) {
		t.Errorf("CNAME from %s: NODATA proof %v, want the NSEC of %s without CNAME", far, nsecs, name)
	}
	if a := askFromDO(t, ix, name, dns.TypeA, far, true); scopeOf(a) == 0 || scopeOf(r) != scopeOf(a) {
		t.Errorf("CNAME NODATA from %s: ECS scope %d, want the A answer's, %d", far, scopeOf(r), scopeOf(a))
	}
}

// scopeOf is a reply's ECS scope prefix length.
func scopeOf(m *dns.Msg) int {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if s, ok := o.(*dns.EDNS0_SUBNET); ok {
				return int(s.SourceScope)
			}
		}
	}
	return -1
}
