package index

import (
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/miekg/dns"
)

// TestZoneBelowOwnsItsNames serves a zone and one below it, the zone above
// holding a name server and a static record inside the zone below (which
// validation allows: they reach into it), with a GslbRecord and a
// delegation in the zone below. Whichever zone's object name sorts first, the zone below answers
// for its apex and its names: its names created by the zone above's data
// once belonged to that zone, so the apex of the zone below was a
// delegation of the zone above, every name in it a referral, and the
// snapshot was refused for its GslbRecord.
func TestZoneBelowOwnsItsNames(t *testing.T) {
	for _, names := range [][2]string{{"above", "below"}, {"z-above", "a-below"}} {
		t.Run(names[0], func(t *testing.T) {
			above := &v1.GslbZone{Metadata: &v1.ObjectMeta{Name: names[0]}, Spec: &v1.GslbZoneSpec{
				Zone: "example.com.",
				Soa:  &v1.Soa{Mname: "ns1.example.net.", Rname: "hostmaster.example.net.", Serial: 1, Refresh: 3600, Retry: 600, Expire: 1209600, Minimum: 60},
				NameServers: []*v1.NameServer{
					{Name: "ns1.example.net."},
					{Name: "ns.a.example.com.", Addresses: []string{"192.0.2.53"}},
				},
				DefaultTtl: 60,
				Records:    []*v1.StaticRecord{{Name: "txt.a.example.com.", Type: v1.RecordType_RECORD_TYPE_TXT, Ttl: 60, Values: []string{"above"}}},
			}}
			below := &v1.GslbZone{Metadata: &v1.ObjectMeta{Name: names[1]}, Spec: &v1.GslbZoneSpec{
				Zone:        "a.example.com.",
				Soa:         &v1.Soa{Mname: "ns2.example.net.", Rname: "hostmaster.example.net.", Serial: 1, Refresh: 3600, Retry: 600, Expire: 1209600, Minimum: 60},
				NameServers: []*v1.NameServer{{Name: "ns2.example.net."}},
				DefaultTtl:  60,
				Records:     []*v1.StaticRecord{{Name: "sub.a.example.com.", Type: v1.RecordType_RECORD_TYPE_NS, Ttl: 60, Values: []string{"ns.example.net."}}},
			}}
			rec := &v1.GslbRecord{Metadata: &v1.ObjectMeta{Name: "www"}, Spec: &v1.GslbRecordSpec{
				Zone: names[1], Name: "www.a.example.com.", Type: v1.RecordType_RECORD_TYPE_A, Origins: []string{"fra"},
				Policy: v1.Policy_POLICY_FAILOVER, Answers: 1, Ttl: 30, WhenAllDown: v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_FAIL_OPEN,
			}}
			snap := &v1.GslbSnapshot{
				Revision: 1,
				Zones:    []*v1.GslbZone{above, below},
				Records:  []*v1.GslbRecord{rec},
				Origins: []*v1.SnapshotOrigin{{Name: "fra", Healthy: true, Spec: &v1.OriginSpec{
					Location: &v1.Location{Latitude: 50, Longitude: 8}, Addresses: []string{"198.51.100.1"}, Weight: 1,
				}}},
			}
			if names[1] < names[0] {
				snap.Zones = []*v1.GslbZone{below, above}
			}
			ix, err := Compile(snap, Options{})
			if err != nil {
				t.Fatalf("the snapshot is refused: %v", err)
			}
			for _, q := range []struct {
				name  string
				qtype uint16
				want  string
			}{
				{"a.example.com.", dns.TypeSOA, "a.example.com.\t60\tIN\tSOA\tns2.example.net. hostmaster.example.net. 1 3600 600 1209600 60"},
				{"a.example.com.", dns.TypeNS, "a.example.com.\t60\tIN\tNS\tns2.example.net."},
				{"www.a.example.com.", dns.TypeA, "www.a.example.com.\t30\tIN\tA\t198.51.100.1"},
				{"txt.a.example.com.", dns.TypeTXT, "txt.a.example.com.\t60\tIN\tTXT\t\"above\""},
			} {
				r := ask(t, ix, q.name, q.qtype, false)
				if !r.Authoritative || len(r.Answer) != 1 || r.Answer[0].String() != q.want {
					t.Errorf("%s %s: aa %v, answer %v, authority %v; want authoritative %s", q.name, dns.TypeToString[q.qtype], r.Authoritative, r.Answer, r.Ns, q.want)
				}
			}
		})
	}
}
