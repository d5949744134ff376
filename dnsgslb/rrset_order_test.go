package dnsgslb_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestRRsetsContiguous: in every section of every answer the records of
// one RRset come together, each once (RFC 2181 section 5: an RRset is
// sent whole, as one, and holds no record twice), here with a name server
// that lists its addresses A, AAAA, A, a second one AAAA before A and an
// address twice, and a delegation whose name server's addresses are given
// as separate records. Every name and type of the
// zone is asked over TCP, so that nothing is left out for size, from an
// unsigned and a signed zone, with and without DO.
func TestRRsetsContiguous(t *testing.T) {
	dir := t.TempDir()
	if _, err := dnssec.Generate(dir, gslbtest.Zone, dns.ECDSAP256SHA256, dnssec.CSK, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	snap := func() *v1.GslbSnapshot {
		snap := gslbtest.RealZone()
		z := snap.GetZones()[0].GetSpec()
		z.NameServers[0].Addresses = append(z.NameServers[0].Addresses, "192.0.2.54")
		z.NameServers = append(z.NameServers, &v1.NameServer{Name: "ns3", Addresses: []string{"2001:db8::55", "192.0.2.55", "2001:db8::56", "2001:db8::55"}})
		z.Records = append(z.Records, &v1.StaticRecord{Name: "ns1.child", Type: v1.RecordType_RECORD_TYPE_A, Ttl: 3600, Values: []string{"192.0.2.154"}})
		return snap
	}
	servers := map[string]*testServer{
		"unsigned": run(t, newServerWith(t, dnsgslb.Config{}, snap())),
		"signed":   run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: dir}, snap())),
	}
	names := []nsdQuery{{gslbtest.Zone, dns.TypeDNSKEY}, {"ns3." + gslbtest.Zone, dns.TypeA}}
	for _, q := range nsdQueries() {
		names = append(names, q)
	}
	for _, kind := range []string{"unsigned", "signed"} {
		ts := servers[kind]
		for _, do := range []bool{false, true} {
			for _, q := range names {
				m := msg(t, q.name, q.qtype, "")
				m.SetEdns0(1232, do)
				r := ts.exchange(t, "tcp", m)
				for _, s := range []struct {
					name string
					rrs  []dns.RR
				}{{"answer", r.Answer}, {"authority", r.Ns}, {"additional", r.Extra}} {
					if split := splitRRset(s.rrs); split != "" {
						t.Errorf("%s zone, DO %t, %s %s: the %s section does not hold the RRset %s together, each record once:\n%v", kind, do, q.name, dns.TypeToString[q.qtype], s.name, split, r)
					}
				}
			}
		}
	}
}

// splitRRset names the first RRset (owner, class and type; an RRSIG's
// by the type it covers) whose records in section are not together or
// hold one twice, or returns "".
func splitRRset(section []dns.RR) string {
	key := func(rr dns.RR) string {
		h := rr.Header()
		k := fmt.Sprintf("%s %s %s", strings.ToLower(h.Name), dns.ClassToString[h.Class], dns.TypeToString[h.Rrtype])
		if sig, ok := rr.(*dns.RRSIG); ok {
			k += " " + dns.TypeToString[sig.TypeCovered]
		}
		return k
	}
	done := map[string]bool{}
	for i, rr := range section {
		k := key(rr)
		if done[k] {
			return k
		}
		for _, o := range section[:i] {
			if dns.IsDuplicate(o, rr) {
				return k + " (" + strings.Join(strings.Fields(rr.String()), " ") + " twice)"
			}
		}
		if i+1 < len(section) && key(section[i+1]) != k {
			done[k] = true
		}
	}
	return ""
}
