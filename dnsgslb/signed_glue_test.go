package dnsgslb_test

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
)

// TestSignedNSAddresses: in a signed zone the apex NS answer to a query
// with DO carries, in its additional section, the addresses of the name
// servers inside the zone with their RRSIGs (RFC 4035 section 3.1.1: a
// signed RRset placed in the additional section goes with its RRSIGs), one
// RRset per name and type even when a name server lists its addresses out
// of order, each RRSIG verifying against the zone's DNSKEY.
func TestSignedNSAddresses(t *testing.T) {
	dir := t.TempDir()
	if _, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	snap := gslbtest.RealZone()
	ns := snap.GetZones()[0].GetSpec().GetNameServers()[0]
	ns.Addresses = append(ns.Addresses, "192.0.2.54") // A, AAAA, A
	ts := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, snap))

	m := msg(t, gslbtest.Zone, dns.TypeDNSKEY, "")
	m.SetEdns0(1232, true)
	var keys []*dns.DNSKEY
	for _, rr := range ts.exchange(t, "tcp", m).Answer {
		if k, ok := rr.(*dns.DNSKEY); ok {
			keys = append(keys, k)
		}
	}
	m = msg(t, gslbtest.Zone, dns.TypeNS, "")
	m.SetEdns0(1232, true)
	r := ts.exchange(t, "tcp", m)
	sets := map[uint16][]dns.RR{}
	sigs := map[uint16]*dns.RRSIG{}
	for _, rr := range r.Extra {
		switch rr := rr.(type) {
		case *dns.RRSIG:
			sigs[rr.TypeCovered] = rr
		case *dns.A, *dns.AAAA:
			sets[rr.Header().Rrtype] = append(sets[rr.Header().Rrtype], rr)
		}
	}
	if len(sets[dns.TypeA]) != 2 || len(sets[dns.TypeAAAA]) != 1 {
		t.Fatalf("additional section %v, want ns1's two A and one AAAA records", r.Extra)
	}
	for qtype, rrs := range sets {
		sig := sigs[qtype]
		if sig == nil {
			t.Errorf("no RRSIG for ns1's %s RRset in the additional section:\n%v", dns.TypeToString[qtype], r)
			continue
		}
		verified := false
		for _, k := range keys {
			if k.KeyTag() == sig.KeyTag && sig.Verify(k, rrs) == nil {
				verified = true
			}
		}
		if !verified {
			t.Errorf("RRSIG %v does not verify ns1's %s RRset %v", sig, dns.TypeToString[qtype], rrs)
		}
	}
	if n := strings.Count(r.String(), "RRSIG\tA "); n != 1 {
		t.Errorf("%d RRSIGs covering A, want one:\n%v", n, r)
	}
}
