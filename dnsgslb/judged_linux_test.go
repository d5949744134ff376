package dnsgslb_test

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestJudgedEdges sends queries at the edges of the protocol (meta and
// special types, opcodes, header bits, EDNS, malformed sections, classes,
// TSIG) as bytes, over UDP and TCP, to our server and to NSD and Knot DNS
// serving the same static zone (scripts/test-deps.sh installs both; a
// judge that is not installed is left out, and the test skips without
// either). Our reply must agree with each judge part by part (see
// judgedParts) unless the case names that judge and the parts it may
// differ in: each such allowance says why both answers are allowed.
func TestJudgedEdges(t *testing.T) {
	snap := gslbtest.RealZone()
	snap.Records = nil
	zone := nsdZoneFile(snap.GetZones()[0].GetSpec())
	judges := map[string]string{}
	// The same identity and version, which CHAOS TXT queries ask for.
	if bin := lookBinary("nsd"); bin != "" {
		judges["nsd"] = startNSD(t, bin, zone, `identity: "judge-id"`, `version: "v1"`)
	}
	if bin := lookBinary("knotd"); bin != "" {
		judges["knot"] = startKnot(t, bin, zone, "identity: judge-id", "version: v1")
	}
	if len(judges) == 0 {
		t.Skip("neither nsd nor knotd is installed (scripts/test-deps.sh installs the Debian packages nsd and knot)")
	}
	ours := run(t, newServerWith(t, dnsgslb.Config{Identity: "judge-id", VersionBind: "v1"}, snap))

	for _, tc := range judgedCases() {
		for _, network := range []string{"udp", "tcp"} {
			addr := ours.udp
			if network == "tcp" {
				addr = ours.tcp
			}
			got := judgedParts(exchangeBytes(network, addr, tc.b))
			for _, name := range []string{"nsd", "knot"} {
				jaddr, ok := judges[name]
				may := tc.differs[name]
				if !ok || slices.Contains(may, "all") {
					continue
				}
				want := judgedParts(exchangeBytes(network, jaddr, tc.b))
				parts := partNames
				if got["reply"] != "yes" || want["reply"] != "yes" {
					parts = partNames[:1]
				}
				for _, part := range parts {
					if got[part] != want[part] && !slices.Contains(may, part) {
						t.Errorf("%s over %s: %s differs from %s's\nours: %s\n%s: %s", tc.desc, network, part, name, got[part], name, want[part])
					}
				}
			}
		}
	}
}

// judgedCase is a query and the judges whose reply ours may differ from,
// each with the parts (partNames, or "all") that may differ.
type judgedCase struct {
	desc    string
	b       []byte
	differs map[string][]string
}

// judgedCases are the queries. Where a judge may differ, the comment above
// the case says why both replies are allowed.
func judgedCases() []judgedCase {
	www := "www.gslb.example.com."
	apex := gslbtest.Zone
	q := func(name string, qtype, class uint16) []byte {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		m.Question[0].Qclass = class
		m.RecursionDesired = false
		m.Id = 0x4242
		b, err := m.Pack()
		if err != nil {
			panic(err)
		}
		return b
	}
	edns := func(name string, qtype uint16, mod func(*dns.OPT)) []byte {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		m.RecursionDesired = false
		m.Id = 0x4242
		m.SetEdns0(1232, false)
		if mod != nil {
			mod(m.IsEdns0())
		}
		b, err := m.Pack()
		if err != nil {
			panic(err)
		}
		return b
	}
	flags := func(b []byte, hi, lo byte) []byte {
		b = slices.Clone(b)
		b[2] |= hi
		b[3] |= lo
		return b
	}
	opcode := func(b []byte, op int) []byte {
		b = slices.Clone(b)
		b[2] = b[2]&^0x78 | byte(op<<3)
		return b
	}
	aRecord := []byte{0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1}
	ignore := func(kv ...any) map[string][]string {
		m := map[string][]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1].([]string)
		}
		return m
	}
	all := []string{"all"}
	// An error reply to a malformed query: NSD and Knot leave out the
	// OPT record, ours carries one when the query had one (RFC 6891
	// section 7: a responder includes an OPT record in its reply to a
	// query with one), and NSD leaves out the question, which RFC 1035
	// does not require be echoed.
	malformedOPT := ignore("nsd", []string{"question", "opt"}, "knot", []string{"opt"})
	// Opcodes other than QUERY: NSD leaves out the question, Knot echoes
	// it, as ours; RFC 1035 requires neither.
	otherOpcode := ignore("nsd", []string{"question"})
	chaosAA := ignore("nsd", []string{"aa"}, "knot", []string{"aa"})
	return []judgedCase{
		{"A", q(www, dns.TypeA, 1), nil},
		// Meta-types and obsolete QTYPEs asked at a name of the zone:
		// NODATA from all three. RFC 6895 section 3.1 keeps meta-types
		// out of zones, so no name has an RRset of one, which NODATA
		// says without answering one as data. (BIND answers FORMERR,
		// and NOTIMP for MAILA and MAILB; no RFC asks for either.)
		{"qtype OPT", q(www, dns.TypeOPT, 1), nil},
		{"qtype OPT with EDNS", edns(www, dns.TypeOPT, nil), nil},
		{"qtype TSIG", q(www, dns.TypeTSIG, 1), nil},
		{"qtype TKEY at the apex", q(apex, dns.TypeTKEY, 1), nil},
		{"qtype MAILA", q(www, dns.TypeMAILA, 1), nil},
		{"qtype MAILB", q(www, dns.TypeMAILB, 1), nil},
		{"qtype OPT, missing name", q("missing."+apex, dns.TypeOPT, 1), nil},
		{"qtype TSIG below the delegation", q("www.child."+apex, dns.TypeTSIG, 1), nil},
		{"qtype RRSIG, unsigned zone", q(www, dns.TypeRRSIG, 1), nil},
		{"qtype NSEC, unsigned zone", q(www, dns.TypeNSEC, 1), nil},
		{"qtype 128 (meta range)", q(www, 128, 1), nil},
		{"qtype 65535 (reserved)", q(www, 65535, 1), nil},
		// Type 0 is reserved (RFC 6895 section 3.1): NODATA as NSD;
		// Knot answers NOTIMP.
		{"qtype 0", q(www, 0, 1), ignore("knot", all)},
		// Zone transfers are not served: NOTIMP, as gdnsd (RFC 1035:
		// "does not support the requested kind of query"); NSD
		// answers REFUSED and Knot NOTAUTH (transfers not allowed by
		// its ACL) but over UDP, where both answer AXFR with NOTIMP.
		{"AXFR", q(apex, dns.TypeAXFR, 1), ignore("nsd", []string{"rcode"}, "knot", []string{"rcode"})},
		{"IXFR", q(apex, dns.TypeIXFR, 1), ignore("nsd", []string{"rcode"}, "knot", []string{"rcode"})},
		// ANY: RFC 8482 section 4 lets a server answer with one RRset
		// (NSD, Knot) or a synthesised HINFO (ours).
		{"ANY", q(www, dns.TypeANY, 1), ignore("nsd", []string{"answer"}, "knot", []string{"answer"})},

		// RFC 8945 section 5.2.2: a key the server does not know is
		// NOTAUTH with the TSIG error BADKEY, in an unsigned TSIG.
		{"TSIG, unknown key", withTSIG(q(www, dns.TypeA, 1)), otherOpcode},
		{"TSIG, unknown key, EDNS", withTSIG(edns(www, dns.TypeA, nil)), otherOpcode},
		// Knot answers REFUSED, looking for the zone first; NSD and ours
		// check the TSIG before the question (RFC 8945 section 5.2).
		{"TSIG, unknown key, outside the zones", withTSIG(q("www.example.org.", dns.TypeA, 1)), ignore("nsd", []string{"question"}, "knot", all)},

		{"TSIG, unknown key, opcode NOTIFY", withTSIG(opcode(q(apex, dns.TypeSOA, 1), 4)), ignore("nsd", []string{"question"}, "knot", all)},
		// RFC 8945 section 5.1: the TSIG is the last record, and only
		// one.
		{"TSIG before the OPT", func() []byte {
			b := withTSIG(q(www, dns.TypeA, 1))
			b[11]++
			return append(b, wireOPT(0)...)
		}(), otherOpcode},
		{"two TSIG records", func() []byte {
			b := withTSIG(q(www, dns.TypeA, 1))
			tsig := b[len(wireQuestion())+12:]
			b[11]++
			return append(b, tsig...)
		}(), otherOpcode},
		{"opcode IQUERY", opcode(q(www, dns.TypeA, 1), 1), otherOpcode},
		{"opcode STATUS", opcode(q(www, dns.TypeA, 1), 2), otherOpcode},
		{"opcode 3 (unassigned)", opcode(q(www, dns.TypeA, 1), 3), otherOpcode},
		{"opcode DSO", opcode(q(www, dns.TypeA, 1), 6), otherOpcode},
		{"opcode 15 with EDNS", opcode(edns(www, dns.TypeA, nil), 15), ignore("nsd", []string{"question", "opt"})},
		// NOTIFY and UPDATE: NOTIMP, from a server that is no secondary
		// and takes no updates (RFC 1035: a kind of request it does not
		// support); NSD answers REFUSED to NOTIFY, Knot NOTAUTH to
		// both. RD and CD are QUERY's bits (RFC 2136 section 2.2 has
		// none): NSD echoes both and Knot RD for NOTIFY, ours neither.
		{"opcode NOTIFY", opcode(q(apex, dns.TypeSOA, 1), 4), ignore("nsd", []string{"question", "rcode", "aa"}, "knot", []string{"rcode"})},
		{"opcode NOTIFY, RD and CD", flags(opcode(q(apex, dns.TypeSOA, 1), 4), 1, 0x10), ignore("nsd", []string{"question", "rcode", "flags"}, "knot", []string{"rcode", "flags"})},
		{"opcode UPDATE", opcode(q(apex, dns.TypeSOA, 1), 5), ignore("nsd", []string{"question"}, "knot", []string{"rcode"})},

		{"TC set in a query", flags(q(www, dns.TypeA, 1), 0x02, 0), nil},
		{"AA set in a query", flags(q(www, dns.TypeA, 1), 0x04, 0), nil},
		{"RA set in a query", flags(q(www, dns.TypeA, 1), 0, 0x80), nil},
		{"RD", flags(q(www, dns.TypeA, 1), 0x01, 0), nil},
		// RFC 4035 section 3.1.6: an authoritative server clears CD
		// (a security-aware server SHOULD), and sets AD only for data
		// it has validated.
		{"CD", flags(q(www, dns.TypeA, 1), 0, 0x10), nil},
		{"AD", flags(q(www, dns.TypeA, 1), 0, 0x20), nil},
		{"Z", flags(q(www, dns.TypeA, 1), 0, 0x40), nil},
		{"RD CD AD Z, NXDOMAIN", flags(q("missing."+apex, dns.TypeA, 1), 1, 0x70), nil},
		{"RD CD, REFUSED", flags(q("www.example.org.", dns.TypeA, 1), 1, 0x10), nil},
		{"RD CD, referral", flags(q("www.child."+apex, dns.TypeA, 1), 1, 0x10), nil},
		// An rcode in a query: NSD answers FORMERR; RFC 1035 gives the
		// field no meaning in a query, and Knot and ours ignore it.
		{"rcode set in a query", flags(q(www, dns.TypeA, 1), 0, 0x03), ignore("nsd", all)},

		{"EDNS unknown flags", edns(www, dns.TypeA, func(o *dns.OPT) { o.SetZ(0x1234) }), nil},
		{"EDNS DO", edns(www, dns.TypeA, func(o *dns.OPT) { o.SetDo() }), nil},
		{"EDNS version 1", edns(www, dns.TypeA, func(o *dns.OPT) { o.SetVersion(1) }), nil},
		{"EDNS version 1, outside the zones", edns("www.example.org.", dns.TypeA, func(o *dns.OPT) { o.SetVersion(1) }), nil},
		// RFC 6891 section 6.1.3: a version the server does not speak
		// MUST be answered BADVERS, before the opcode is looked at, as
		// Knot (and BIND); NSD answers NOTIMP.
		{"EDNS version 1, opcode STATUS", opcode(edns(www, dns.TypeA, func(o *dns.OPT) { o.SetVersion(1) }), 2), ignore("nsd", all)},
		{"EDNS version 1, AXFR", edns(apex, dns.TypeAXFR, func(o *dns.OPT) { o.SetVersion(1) }), nil},
		{"EDNS version 1, class CH", func() []byte {
			b := edns(www, dns.TypeA, func(o *dns.OPT) { o.SetVersion(1) })
			b[12+len(wwwName)+3] = byte(dns.ClassCHAOS)
			return b
		}(), nil},
		{"EDNS version 1, RRSIG", edns(www, dns.TypeRRSIG, func(o *dns.OPT) { o.SetVersion(1) }), nil},
		// A TSIG is checked first (RFC 8945 section 5.2): NOTAUTH and
		// BADKEY, where Knot answers BADVERS first and NSD NOTAUTH with
		// BADVERS's extended bits (rcode 25).
		{"EDNS version 1, TSIG", withTSIG(edns(www, dns.TypeA, func(o *dns.OPT) { o.SetVersion(1) })), ignore("nsd", all, "knot", all)},
		// No question is a FORMERR first, as Knot; NSD answers NOERROR.
		{"EDNS version 1, no question", func() []byte {
			b := join(wireHeader(0, 0, 0, 0, 1), wireOPT(0))
			b[len(b)-6] = 1
			return b
		}(), ignore("nsd", []string{"rcode"})},
		{"EDNS unknown option", edns(www, dns.TypeA, func(o *dns.OPT) {
			o.Option = append(o.Option, &dns.EDNS0_LOCAL{Code: 65001, Data: []byte{1, 2, 3}})
		}), nil},
		{"EDNS payload 100", edns(www, dns.TypeA, func(o *dns.OPT) { o.SetUDPSize(100) }), nil},
		{"EDNS payload 0", edns(www, dns.TypeA, func(o *dns.OPT) { o.SetUDPSize(0) }), nil},
		{"EDNS extended rcode in a query", edns(www, dns.TypeA, func(o *dns.OPT) { o.SetExtendedRcode(16) }), nil},
		{"EDNS option past the OPT's end", func() []byte {
			b := edns(www, dns.TypeA, nil)
			b[len(b)-1] = 3
			return append(b, 0, 10, 0)
		}(), malformedOPT},
		{"two OPT records", join(wireHeader(0, 1, 0, 0, 2), wireQuestion(), wireOPT(0), wireOPT(0)), malformedOPT},
		{"EDNS option header cut short", withOptions(0, 10, 0), malformedOPT},
		// NSD and Knot, serving without Client Subnet, ignore the
		// option; ours reads it, and one that does not parse (RFC 7871
		// section 6: here an unknown family) is a FORMERR.
		{"ECS of an unknown family", withOptions(0, 8, 0, 7, 0, 3, 24, 0, 192, 0, 2), ignore("nsd", []string{"rcode", "aa", "answer"}, "knot", []string{"rcode", "aa", "answer"})},
		// RFC 7828 section 3.2.1: over TCP an edns-tcp-keepalive
		// option with a timeout in a query MUST be answered FORMERR,
		// which ours does; NSD and Knot answer the question. Over UDP
		// all three ignore the option.
		{"edns-tcp-keepalive with a timeout", withOptions(0, 11, 0, 2, 0, 10), ignore("nsd", []string{"rcode", "aa", "answer"}, "knot", []string{"rcode", "aa", "answer"})},
		// The OPT's owner written as a pointer to the question's root
		// label: it names the root, as RFC 6891 section 6.1.2 asks,
		// though not as the one zero byte it shows. Ours answers, as
		// Knot; NSD answers FORMERR.
		{"OPT owned by a pointer to the root", join(wireHeader(0, 1, 0, 0, 1), wireQuestion(), wireOPT(0xc0, byte(12+len(wwwName)-1))), ignore("nsd", all)},
		// RFC 6891 section 6.1.2: the OPT's owner is the root. Knot
		// ignores the owner.
		{"OPT with a non-root owner", join(wireHeader(0, 1, 0, 0, 1), wireQuestion(), wireOPT(wwwName...)), ignore("nsd", []string{"question"}, "knot", all)},
		{"OPT in the answer section", join(wireHeader(0, 1, 1, 0, 0), wireQuestion(), wireOPT(0)), ignore("nsd", []string{"question"})},
		{"OPT in the authority section", join(wireHeader(0, 1, 0, 1, 0), wireQuestion(), wireOPT(0)), ignore("nsd", []string{"question"})},

		// Shorter than a header: no ID to answer with. No reply over
		// UDP, and over TCP the connection closed at once (see
		// TestTCPShortMessageCloses), from all three.
		{"11 bytes, shorter than a header", wireHeader(0, 1, 0, 0, 0)[:11], nil},
		// No question: FORMERR. Over TCP NSD closes the connection
		// instead.
		{"no question", wireHeader(0, 0, 0, 0, 0), ignore("nsd", []string{"reply"})},
		// No question but an OPT: FORMERR as Knot; NSD answers
		// NOERROR. Only a query for a cookie may have no question
		// (RFC 7873 section 5.4).
		{"no question, OPT", join(wireHeader(0, 0, 0, 0, 1), wireOPT(0)), ignore("nsd", []string{"rcode"})},
		// Knot, without cookies configured, answers FORMERR.
		{"no question, COOKIE", cookieOnly(), ignore("knot", []string{"rcode"})},
		// Two questions: FORMERR (RFC 9619); Knot does not answer.
		{"two questions", join(wireHeader(0, 2, 0, 0, 0), wireQuestion(), wireQuestion()), ignore("knot", all)},
		{"two questions, OPT", join(wireHeader(0, 2, 0, 0, 1), wireQuestion(), wireQuestion(), wireOPT(0)), ignore("nsd", []string{"opt"}, "knot", all)},
		// Records in the answer or authority section of a query, or a
		// record other than OPT in the additional: NSD answers
		// FORMERR; RFC 1035 does not forbid them, and Knot and ours
		// answer the question.
		{"an A record in the answer section", join(wireHeader(0, 1, 1, 0, 0), wireQuestion(), aRecord), ignore("nsd", all)},
		{"an A record in the authority section", join(wireHeader(0, 1, 0, 1, 0), wireQuestion(), aRecord), ignore("nsd", all)},
		{"an A record in the additional section", join(wireHeader(0, 1, 0, 0, 1), wireQuestion(), aRecord), ignore("nsd", all)},
		// Bytes after the last record: answered as NSD; Knot answers
		// FORMERR.
		{"trailing bytes", join(wireHeader(0, 1, 0, 0, 0), wireQuestion(), []byte{1, 2, 3}), ignore("knot", all)},
		{"trailing bytes after OPT", join(wireHeader(0, 1, 0, 0, 1), wireQuestion(), wireOPT(0), []byte{1, 2, 3}), ignore("knot", all)},
		{"a record counted but missing", join(wireHeader(0, 1, 0, 0, 1), wireQuestion()), ignore("nsd", []string{"question"})},
		// Malformed question names: FORMERR as NSD; Knot does not
		// answer.
		{"compression loop", join(wireHeader(0, 1, 0, 0, 0), []byte{0xc0, 12, 0, 1, 0, 1}), ignore("knot", all)},
		{"name longer than 255 bytes", join(wireHeader(0, 1, 0, 0, 0), []byte(strings.Repeat("\x3f"+strings.Repeat("a", 63), 4)), []byte{0, 0, 1, 0, 1}), ignore("knot", all)},
		{"label type 0x40", join(wireHeader(0, 1, 0, 0, 0), []byte{0x41, 0, 0, 1, 0, 1}), ignore("knot", all)},
		// A pointer must point back to a prior name (RFC 1035 section
		// 4.1.4): not into the header, not forward.
		{"pointer into the header", func() []byte {
			b := join(wireHeader(0, 1, 0, 0, 0), []byte{0xc0, 0, 0, 6, 0, 1})
			b[0] = 0 // the ID's first byte reads as the root
			return b
		}(), ignore("knot", all)},
		{"pointer forward", join(wireHeader(0, 1, 0, 0, 1), []byte{3, 'w', 'w', 'w', 0xc0, 22, 0, 1, 0, 1},
			wwwName[4:], []byte{0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1}), ignore("knot", all)},

		{"the root", q(".", dns.TypeNS, 1), nil},
		{"DNSKEY, unsigned zone", q(apex, dns.TypeDNSKEY, 1), nil},
		{"NSEC3PARAM", q(apex, dns.TypeNSEC3PARAM, 1), nil},
		{"CDS", q(apex, dns.TypeCDS, 1), nil},
		{"DS at the apex", q(apex, dns.TypeDS, 1), nil},
		{"DS at the cut, RD CD", flags(q("child."+apex, dns.TypeDS, 1), 1, 0x10), nil},
		{"SOA at the cut", q("child."+apex, dns.TypeSOA, 1), nil},
		{"ANY at the cut", q("child."+apex, dns.TypeANY, 1), nil},
		{"a literal wildcard label", q("*."+apex, dns.TypeA, 1), nil},
		{"a name of 255 bytes", q(strings.Repeat("a", 63)+"."+strings.Repeat("b", 63)+"."+strings.Repeat("c", 63)+"."+strings.Repeat("d", 44)+"."+apex, dns.TypeA, 1), nil},
		{"EDNS version 1, DO", edns(www, dns.TypeA, func(o *dns.OPT) { o.SetVersion(1); o.SetDo() }), nil},
		{"EDNS payload 65535", edns(apex, dns.TypeNS, func(o *dns.OPT) { o.SetUDPSize(65535) }), nil},
		{"EDNS padding", edns(www, dns.TypeA, func(o *dns.OPT) { o.Option = append(o.Option, &dns.EDNS0_PADDING{Padding: make([]byte, 64)}) }), nil},
		{"EDNS padding, DO", edns(www, dns.TypeA, func(o *dns.OPT) {
			o.SetDo()
			o.Option = append(o.Option, &dns.EDNS0_PADDING{Padding: make([]byte, 64)})
		}), nil},
		{"QR, AA, TC and Z clear, RD set, NXDOMAIN", flags(q("missing."+apex, dns.TypeTXT, 1), 0x07, 0x40), nil},
		{"a long TXT without EDNS", q("sel._domainkey."+apex, dns.TypeTXT, 1), nil},
		{"a long TXT, EDNS payload 512", edns("sel._domainkey."+apex, dns.TypeTXT, func(o *dns.OPT) { o.SetUDPSize(512) }), nil},
		// The addresses of an MX target in the additional section are
		// optional (RFC 2181 section 9): Knot adds them, NSD in
		// minimal-responses mode and ours do not.
		{"MX", q(apex, dns.TypeMX, 1), ignore("knot", []string{"additional"})},
		{"NS without EDNS", q(apex, dns.TypeNS, 1), nil},
		{"class CH", q(www, dns.TypeA, dns.ClassCHAOS), nil},
		// CHAOS TXT names that say which server answered (RFC 4892).
		// Ours are authoritative, as BIND's; NSD and Knot leave AA
		// clear. Either is allowed: no zone holds these names.
		{"CH TXT id.server.", q("id.server.", dns.TypeTXT, dns.ClassCHAOS), chaosAA},
		{"CH TXT ID.Server., EDNS", func() []byte {
			b := edns("ID.Server.", dns.TypeTXT, nil)
			b[12+11+3] = byte(dns.ClassCHAOS)
			return b
		}(), chaosAA},
		{"CH TXT hostname.bind.", q("hostname.bind.", dns.TypeTXT, dns.ClassCHAOS), chaosAA},
		{"CH TXT version.bind.", q("version.bind.", dns.TypeTXT, dns.ClassCHAOS), chaosAA},
		// version.server is a name of NSD and Knot, in no RFC.
		{"CH TXT version.server.", q("version.server.", dns.TypeTXT, dns.ClassCHAOS), ignore("nsd", all, "knot", all)},
		{"CH TXT a name below id.server.", q("x.id.server.", dns.TypeTXT, dns.ClassCHAOS), nil},
		{"IN TXT id.server.", q("id.server.", dns.TypeTXT, 1), nil},
		// Another type at id.server.: NODATA, without SOA as no zone
		// holds the name; NSD and Knot answer REFUSED.
		{"CH A id.server.", q("id.server.", dns.TypeA, dns.ClassCHAOS), ignore("nsd", []string{"rcode", "aa"}, "knot", []string{"rcode", "aa"})},
		// ANY: the TXT record, as NSD; Knot answers REFUSED.
		{"CH ANY id.server.", q("id.server.", dns.TypeANY, dns.ClassCHAOS), ignore("nsd", []string{"aa"}, "knot", all)},
		// NSD answers a zone transfer of id.server. REFUSED.
		{"CH AXFR id.server.", q("id.server.", dns.TypeAXFR, dns.ClassCHAOS), ignore("nsd", []string{"rcode"})},
		{"CH TXT id.server., opcode STATUS", opcode(q("id.server.", dns.TypeTXT, dns.ClassCHAOS), 2), otherOpcode},
		// RD in a query of another opcode than QUERY: NSD and Knot
		// echo it; ours does not, as RD is QUERY's (RFC 2136 section
		// 2.2 gives UPDATE no RD).
		{"opcode STATUS, RD", flags(opcode(q(www, dns.TypeA, 1), 2), 1, 0), ignore("nsd", []string{"question", "flags"}, "knot", []string{"flags"})},
		{"class HS", q(www, dns.TypeA, dns.ClassHESIOD), ignore("nsd", []string{"question"})},
		{"class NONE", q(www, dns.TypeA, dns.ClassNONE), ignore("nsd", []string{"question"})},
		{"class 0", q(www, dns.TypeA, 0), ignore("nsd", []string{"question"})},
		// QCLASS ANY: REFUSED, the zones are IN's only and an answer to
		// class ANY cannot be authoritative for every class (RFC 6895
		// section 3.2). NSD answers the IN data without AA, Knot with
		// it.
		{"class ANY", q(www, dns.TypeA, dns.ClassANY), ignore("nsd", all, "knot", all)},
	}
}

// withOptions is the query for www.gslb.example.com. A with an OPT record
// whose RDATA is rdata, options as bytes.
func withOptions(rdata ...byte) []byte {
	opt := append(wireOPT(0)[:9], byte(len(rdata)>>8), byte(len(rdata)))
	return join(wireHeader(0, 1, 0, 0, 1), wireQuestion(), opt, rdata)
}

// withTSIG appends a TSIG record (HMAC-SHA256, MAC of 32 bytes) for the
// key "nokey.", which no server has, to a packed query.
func withTSIG(b []byte) []byte {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		panic(err)
	}
	m.Extra = append(m.Extra, &dns.TSIG{
		Hdr:       dns.RR_Header{Name: "nokey.", Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
		Algorithm: dns.HmacSHA256, TimeSigned: uint64(time.Now().Unix()), Fudge: 300,
		MACSize: 32, MAC: strings.Repeat("ab", 32), OrigId: m.Id,
	})
	out, err := m.Pack()
	if err != nil {
		panic(err)
	}
	return out
}

// cookieOnly is a query with no question and a client cookie.
func cookieOnly() []byte {
	o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	o.SetUDPSize(1232)
	o.Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}}
	m := &dns.Msg{MsgHdr: dns.MsgHdr{Id: 0x4242}, Extra: []dns.RR{o}}
	b, err := m.Pack()
	if err != nil {
		panic(err)
	}
	return b
}

// partNames are the parts of a reply compared: whether there is one, the
// ID, opcode and rcode (extended included), AA, the other flags, the
// question, each section's records (the additional without the OPT
// record; a TSIG record by its name, algorithm, error and MAC size), and
// the OPT record's presence and version. EDNS options are not compared:
// the judges run without cookies or NSID.
var partNames = []string{"reply", "id", "opcode", "rcode", "aa", "flags", "question", "answer", "authority", "additional", "opt"}

// judgedParts renders a reply's parts for comparison.
func judgedParts(b []byte, err error) map[string]string {
	p := map[string]string{}
	if err != nil {
		p["reply"] = "none"
		return p
	}
	p["reply"] = "yes"
	var m dns.Msg
	if err := m.Unpack(b); err != nil {
		p["reply"] = fmt.Sprintf("does not unpack: %v", err)
		return p
	}
	p["id"] = fmt.Sprintf("%#x", m.Id)
	p["opcode"] = dns.OpcodeToString[m.Opcode]
	p["rcode"] = rcodeName(m.Rcode)
	if m.Rcode == dns.RcodeBadVers && m.IsEdns0() != nil {
		p["rcode"] = "BADVERS" // not BADSIG, a TSIG's error
	}
	p["aa"] = fmt.Sprint(m.Authoritative)
	var fl []string
	for _, f := range []struct {
		set  bool
		name string
	}{{m.Response, "qr"}, {m.Truncated, "tc"}, {m.RecursionDesired, "rd"}, {m.RecursionAvailable, "ra"}, {m.Zero, "z"}, {m.AuthenticatedData, "ad"}, {m.CheckingDisabled, "cd"}} {
		if f.set {
			fl = append(fl, f.name)
		}
	}
	p["flags"] = strings.Join(fl, " ")
	var qs []string
	for _, q := range m.Question {
		qs = append(qs, strings.ToLower(q.String()))
	}
	p["question"] = strings.Join(qs, "; ")
	section := func(rs []dns.RR) string {
		var lines []string
		for _, rr := range rs {
			switch rr := rr.(type) {
			case *dns.OPT:
				p["opt"] = fmt.Sprintf("version %d", rr.Version())
			case *dns.TSIG:
				lines = append(lines, fmt.Sprintf("TSIG %s %s error %s MAC size %d", rr.Hdr.Name, rr.Algorithm, rcodeName(int(rr.Error)), rr.MACSize))
			default:
				lines = append(lines, strings.Join(strings.Fields(lowerNames(rr).String()), " "))
			}
		}
		slices.Sort(lines)
		return strings.Join(lines, "; ")
	}
	p["answer"], p["authority"], p["additional"] = section(m.Answer), section(m.Ns), section(m.Extra)
	return p
}

// exchangeBytes sends b to addr over "udp" or "tcp" and returns the
// reply's bytes, or an error when none comes within a second or the
// server closes the connection. A UDP query is sent twice before giving
// up, so that a loaded machine does not pass for a server that drops it.
func exchangeBytes(network, addr string, b []byte) ([]byte, error) {
	var err error
	for range 2 {
		var c net.Conn
		if c, err = net.Dial(network, addr); err != nil {
			return nil, err
		}
		var br *bufio.Reader
		if network == "tcp" {
			br = bufio.NewReader(c)
		}
		var reply []byte
		reply, err = exchangeOn(c, br, b)
		c.Close()
		if err == nil || network == "tcp" {
			return reply, err
		}
	}
	return nil, err
}

// lookBinary returns the path of a program in PATH or /usr/sbin, or "".
func lookBinary(name string) string {
	if bin, err := exec.LookPath(name); err == nil {
		return bin
	}
	if bin, err := exec.LookPath("/usr/sbin/" + name); err == nil {
		return bin
	}
	return ""
}
