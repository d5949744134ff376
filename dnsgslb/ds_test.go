package dnsgslb_test

import (
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestDSAtDelegation checks the DS RRset of a signed child zone held as
// static records at a delegation: a DS query at the cut is answered by
// the parent, authoritatively and signed; a referral with DO carries the
// DS RRset and its RRSIG instead of an NSEC proving there is none, and
// without DO neither.
func TestDSAtDelegation(t *testing.T) {
	child, err := dnssec.Generate(t.TempDir(), walkZone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p := serveParent(t, walkZone, 3, child)
	ask := func(name string, qtype uint16, do bool) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		m.SetEdns0(4096, do)
		r, err := dns.Exchange(m, p.server.udp)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	types := func(rrs []dns.RR) map[uint16]int {
		out := map[uint16]int{}
		for _, rr := range rrs {
			out[rr.Header().Rrtype]++
		}
		return out
	}

	r := ask(walkZone, dns.TypeDS, true)
	got := types(r.Answer)
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative || got[dns.TypeDS] != 1 || got[dns.TypeRRSIG] != 1 {
		t.Errorf("DS at the cut: rcode %s, AA %v, answer %v; want the DS and its RRSIG, authoritative", dns.RcodeToString[r.Rcode], r.Authoritative, r.Answer)
	} else if ds := r.Answer[0].(*dns.DS); ds.KeyTag != child.Tag() || ds.Digest != child.DS().Digest || ds.Hdr.Ttl != 3 {
		t.Errorf("DS at the cut: %v, want the child key's DS %v with TTL 3", ds, child.DS())
	}

	r = ask("www."+walkZone, dns.TypeA, true)
	got = types(r.Ns)
	if r.Authoritative || len(r.Answer) != 0 || got[dns.TypeNS] != 1 || got[dns.TypeDS] != 1 || got[dns.TypeRRSIG] != 1 || got[dns.TypeNSEC] != 0 {
		t.Errorf("referral with DO: AA %v, answer %v, authority %v; want NS, DS and the DS's RRSIG, no NSEC", r.Authoritative, r.Answer, r.Ns)
	}
	// The cut's NSEC, covering a name after it, lists DS among its types.
	r = ask("subz."+gslbtest.Zone, dns.TypeA, true)
	var cut *dns.NSEC
	for _, rr := range r.Ns {
		if n, ok := rr.(*dns.NSEC); ok && n.Hdr.Name == walkZone {
			cut = n
		}
	}
	if r.Rcode != dns.RcodeNameError || cut == nil || !slices.Contains(cut.TypeBitMap, dns.TypeDS) || !slices.Contains(cut.TypeBitMap, dns.TypeNS) {
		t.Errorf("NXDOMAIN after the cut: rcode %s, the cut's NSEC %v; want it with NS and DS", dns.RcodeToString[r.Rcode], cut)
	}

	r = ask("www."+walkZone, dns.TypeA, false)
	got = types(r.Ns)
	if got[dns.TypeNS] != 1 || got[dns.TypeDS] != 0 || got[dns.TypeRRSIG] != 0 {
		t.Errorf("referral without DO: authority %v; want the NS alone", r.Ns)
	}
}
