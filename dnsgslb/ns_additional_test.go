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
	"google.golang.org/protobuf/proto"
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

// TestNSAddressesInANestedZone: a name server of the zone whose name lies
// in another zone served here, nested in it without a delegation, is
// answered by that zone: the apex NS answer sends its addresses as that
// zone serves them, signed by that zone's keys, as a query at the name
// gets them, not by the outer zone's.
func TestNSAddressesInANestedZone(t *testing.T) {
	dir := t.TempDir()
	inner := "sub." + gslbtest.Zone
	for _, zone := range []string{gslbtest.Zone, inner} {
		if _, err := dnssec.Generate(dir, zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	snap := gslbtest.Snapshot()
	outer := snap.GetZones()[0]
	outer.Spec.NameServers = append(outer.Spec.NameServers, &v1.NameServer{Name: "ns3.sub", Addresses: []string{"192.0.2.54"}})
	sub := proto.Clone(outer).(*v1.GslbZone)
	sub.Metadata.Name, sub.Spec.Zone = "sub", inner
	sub.Spec.Records = []*v1.StaticRecord{{Name: "ns3", Type: v1.RecordType_RECORD_TYPE_A, Ttl: 60, Values: []string{"192.0.2.54"}}}
	sub.Spec.NameServers = []*v1.NameServer{{Name: "ns2.example.net."}}
	snap.Zones = append(snap.Zones, sub)
	ts := run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, snap))

	signers := func(section []dns.RR) (names []string, sigs int) {
		for _, rr := range section {
			if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == dns.TypeA && strings.EqualFold(sig.Hdr.Name, "ns3."+inner) {
				names = append(names, sig.SignerName)
			}
		}
		return names, len(names)
	}
	q := msg(t, "ns3."+inner, dns.TypeA, "")
	q.SetEdns0(1232, true)
	want, n := signers(ts.exchange(t, "tcp", q).Answer)
	if n == 0 || want[0] != dns.Fqdn(inner) {
		t.Fatalf("ns3.%s A signed by %v, want %s", inner, want, inner)
	}
	m := msg(t, gslbtest.Zone, dns.TypeNS, "")
	m.SetEdns0(1232, true)
	if got, _ := signers(ts.exchange(t, "tcp", m).Extra); !slices.Equal(got, want) {
		t.Errorf("ns3's A RRset in the NS answer's additional section signed by %v, want %v as a query at the name gets it", got, want)
	}
}
