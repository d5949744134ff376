package dnsgslb_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestNSAddressesAsServed: the addresses of a name server inside the zone
// in the apex NS answer's additional section are the RRsets the zone
// answers at the name server's name, TTL included, also where a static
// record there stands in for the addresses the name server lists: one
// server sends one RRset per name and type (RFC 2181 section 5), the same
// with DO or without, signed or not.
func TestNSAddressesAsServed(t *testing.T) {
	dir := t.TempDir()
	if _, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	snap := func() *v1.GslbSnapshot {
		snap := gslbtest.RealZone()
		z := snap.GetZones()[0].GetSpec()
		z.Records = append(z.Records, &v1.StaticRecord{Name: "ns1", Type: v1.RecordType_RECORD_TYPE_A, Ttl: 60, Values: []string{"192.0.2.99"}})
		return snap
	}
	rrs := func(section []dns.RR, qtype uint16) string {
		var lines []string
		for _, rr := range section {
			if h := rr.Header(); h.Rrtype == qtype && strings.EqualFold(h.Name, "ns1."+gslbtest.Zone) {
				lines = append(lines, strings.Join(strings.Fields(rr.String()), " "))
			}
		}
		slices.Sort(lines)
		return strings.Join(lines, "; ")
	}
	for kind, cfg := range map[string]dnsgslb.Config{"unsigned": {}, "signed": {DNSSECKeyDir: dir}} {
		ts := run(t, newServerWith(t, cfg, snap()))
		for _, do := range []bool{false, true} {
			m := msg(t, gslbtest.Zone, dns.TypeNS, "")
			m.SetEdns0(1232, do)
			extra := ts.exchange(t, "tcp", m).Extra
			for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
				m := msg(t, "ns1."+gslbtest.Zone, qtype, "")
				m.SetEdns0(1232, do)
				want := rrs(ts.exchange(t, "tcp", m).Answer, qtype)
				if got := rrs(extra, qtype); got != want {
					t.Errorf("%s zone, DO %t: ns1's %s RRset in the NS answer's additional section\n%s\nwhere a query for ns1 %s answers\n%s", kind, do, dns.TypeToString[qtype], got, dns.TypeToString[qtype], want)
				}
			}
		}
	}
}
