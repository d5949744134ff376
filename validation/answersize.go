package validation

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// maxAnswer is the most bytes the answer of one RRset may take, packed as
// DNS servers pack it: header, question and records, names compressed. A
// DNS message holds at most 65,535 bytes, even over TCP; the rest is left
// for the OPT record and, in a signed zone, the RRSIGs. A larger answer
// is sent with TC, over TCP too, so that no client ever gets it.
const maxAnswer = 64000

// tooLargeMsg is the reason given for an answer over maxAnswer.
const tooLargeMsg = "more than 64000, the most left in a DNS message for them beside the OPT record and signatures"

// answerSize is the size of the answer for owner holding rrs, as DNS
// servers pack it.
func answerSize(owner string, rrs []dns.RR) int {
	m := &dns.Msg{
		MsgHdr:   dns.MsgHdr{Response: true, Authoritative: true},
		Compress: true,
		Question: []dns.Question{{Name: owner, Qtype: dns.TypeA, Qclass: dns.ClassINET}},
		Answer:   rrs,
	}
	return m.Len()
}

// staticRRs builds the records of a static record with valid values, each
// value once, as DNS servers serve them, for their size; values that do
// not parse are left out (their own errors say why).
func staticRRs(owner string, rec *v1.StaticRecord, apex string) []dns.RR {
	var out []dns.RR
	h := func(t uint16) dns.RR_Header { return dns.RR_Header{Name: owner, Rrtype: t, Class: dns.ClassINET} }
	seen := map[string]bool{}
	for _, v := range rec.GetValues() {
		if seen[v] {
			continue
		}
		seen[v] = true
		switch rec.GetType() {
		case v1.RecordType_RECORD_TYPE_A, v1.RecordType_RECORD_TYPE_AAAA:
			if a, err := netip.ParseAddr(v); err == nil {
				if a.Is4() {
					out = append(out, &dns.A{Hdr: h(dns.TypeA), A: a.AsSlice()})
				} else {
					out = append(out, &dns.AAAA{Hdr: h(dns.TypeAAAA), AAAA: a.AsSlice()})
				}
			}
		case v1.RecordType_RECORD_TYPE_CNAME:
			if domainProblem(v) == "" {
				out = append(out, &dns.CNAME{Hdr: h(dns.TypeCNAME), Target: fqdn(v)})
			}
		case v1.RecordType_RECORD_TYPE_TXT:
			// Character-strings of at most 255 bytes, unescaped: their
			// length on the wire.
			var txt []string
			for len(v) > 255 {
				txt, v = append(txt, v[:255]), v[255:]
			}
			out = append(out, &dns.TXT{Hdr: h(dns.TypeTXT), Txt: append(txt, v)})
		default:
			if rr, err := RecordData(rec.GetType(), owner, 0, v, apex); err == nil {
				out = append(out, rr)
			}
		}
	}
	return out
}

// checkStaticSize refuses a static record whose answer does not fit in a
// DNS message.
func checkStaticSize(r report, path, owner string, rec *v1.StaticRecord, apex string) {
	if n := answerSize(owner, staticRRs(owner, rec, apex)); n > maxAnswer {
		r.addf(path+".values", "", "%d values take %d bytes in the answer for %q: %s; spread them over more names, or shorten them",
			len(rec.GetValues()), n, owner, tooLargeMsg)
	}
}

// checkNameServersSize refuses name servers whose NS answer at the apex
// does not fit in a DNS message.
func checkNameServersSize(r report, nss []*v1.NameServer, apex string) {
	var rrs []dns.RR
	for _, ns := range nss {
		if n, problem := zoneName(ns.GetName(), apex); ns.GetName() != "" && problem == "" {
			rrs = append(rrs, &dns.NS{Hdr: dns.RR_Header{Name: apex, Rrtype: dns.TypeNS, Class: dns.ClassINET}, Ns: n})
		}
	}
	if n := answerSize(apex, rrs); n > maxAnswer {
		r.addf("spec.nameServers", "", "%d name servers take %d bytes in the NS answer for %q: %s; list fewer", len(nss), n, apex, tooLargeMsg)
	}
}

// checkHTTPSSize refuses an HTTPS record whose answer, with the addresses
// of the candidates with the most of them as its hints, does not fit in a
// record or a DNS message. addrs are each candidate's addresses.
func checkHTTPSSize(r report, spec *v1.GslbRecordSpec, owner, path string, addrs [][]string) {
	rr, err := ServiceBindingRR(owner, 0, spec.GetHttps().GetPriority(), ".", spec.GetHttps().GetParams())
	if err != nil {
		return // checkServiceBinding reports it
	}
	type count struct{ v4, v6 int }
	var counts []count
	for _, as := range addrs {
		var c count
		for _, s := range as {
			if a, err := netip.ParseAddr(s); err == nil && a.Unmap().Is4() {
				c.v4++
			} else if err == nil {
				c.v6++
			}
		}
		counts = append(counts, c)
	}
	slices.SortFunc(counts, func(a, b count) int { return (4*b.v4 + 16*b.v6) - (4*a.v4 + 16*a.v6) })
	n := max(int(spec.GetAnswers()), 1)
	var v4, v6 []net.IP
	for _, c := range counts[:min(n, len(counts))] {
		for range c.v4 {
			v4 = append(v4, make(net.IP, 4))
		}
		for range c.v6 {
			v6 = append(v6, make(net.IP, 16))
		}
	}
	if len(v4) > 0 {
		rr.Value = append(rr.Value, &dns.SVCBIPv4Hint{Hint: v4})
	}
	if len(v6) > 0 {
		rr.Value = append(rr.Value, &dns.SVCBIPv6Hint{Hint: v6})
	}
	which := "the candidate"
	if k := min(n, len(counts)); k > 1 {
		which = fmt.Sprintf("the %d candidates", k)
	}
	what := fmt.Sprintf("with the addresses of %s with the most as its hints (%d IPv4, %d IPv6), the HTTPS answer", which, len(v4), len(v6))
	fix := "give the candidates fewer addresses, lower spec.answers, or shorten spec.https.params"
	if p := packProblem(rr); strings.HasPrefix(p, "its data is") {
		r.addf(path, "", "%s does not fit in one record: %s; %s", what, p, fix)
	} else if size := answerSize(owner, []dns.RR{rr}); size > maxAnswer {
		r.addf(path, "", "%s takes %d bytes: %s; %s", what, size, tooLargeMsg, fix)
	}
}

// checkGlueSize refuses a name server inside the zone whose addresses,
// answered at its name, do not fit in a DNS message.
func checkGlueSize(r report, path, name string, addrs []string) {
	var v4, v6 []dns.RR
	seen := map[netip.Addr]bool{}
	h := func(t uint16) dns.RR_Header { return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET} }
	for _, s := range addrs {
		a, err := netip.ParseAddr(s)
		if err != nil || seen[a.Unmap()] {
			continue
		}
		a = a.Unmap()
		seen[a] = true
		if a.Is4() {
			v4 = append(v4, &dns.A{Hdr: h(dns.TypeA), A: a.AsSlice()})
		} else {
			v6 = append(v6, &dns.AAAA{Hdr: h(dns.TypeAAAA), AAAA: a.AsSlice()})
		}
	}
	for _, set := range []struct {
		family string
		rrs    []dns.RR
	}{{"IPv4", v4}, {"IPv6", v6}} {
		if n := answerSize(name, set.rrs); n > maxAnswer {
			r.addf(path, "", "%d %s addresses take %d bytes in the answer for %q: %s; list fewer", len(set.rrs), set.family, n, name, tooLargeMsg)
		}
	}
}
