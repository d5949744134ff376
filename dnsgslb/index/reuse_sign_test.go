package index

import (
	"testing"
	"time"

	"github.com/miekg/dns"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestSignedNodataFollowsTheChain updates a signed zone whose serial is
// fixed with a name added after a GslbRecord that answers NODATA (an AAAA
// record over an origin without an IPv6 address), then with a type added
// at its name: the record is unchanged and taken from the previous index,
// and its NODATA must carry the zone's NSEC as it is now, as a build from
// scratch does. A stale NSEC, validly signed, would let a resolver that
// uses NSEC records aggressively (RFC 8198) deny the new name or type.
func TestSignedNodataFollowsTheChain(t *testing.T) {
	snap := gslbtest.Snapshot()
	snap.Records = append(snap.Records, &v1.GslbRecord{
		Metadata: &v1.ObjectMeta{Name: "v6less"},
		Spec: &v1.GslbRecordSpec{Zone: "gslb", Name: "v6less", Type: v1.RecordType_RECORD_TYPE_AAAA,
			Policy: v1.Policy_POLICY_NEAREST, Origins: []string{"us-west"}, Ttl: 30},
	})
	signers, _ := testSigner(t)
	opts := Options{GeoIP: randomDB(t, 500, 50), Signers: signers, Now: func() time.Time { return signedAt }}
	prev, err := Compile(snap, opts)
	if err != nil {
		t.Fatal(err)
	}
	nsec := func(ix *Index) string {
		t.Helper()
		m := ask(t, ix, "v6less."+gslbtest.Zone, dns.TypeAAAA, true)
		for _, rr := range m.Ns {
			if rr.Header().Rrtype == dns.TypeNSEC {
				return rr.String()
			}
		}
		t.Fatalf("v6less AAAA: no NSEC in %v", m)
		return ""
	}
	for _, add := range []*v1.StaticRecord{
		{Name: "w", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{"after v6less"}},
		{Name: "v6less", Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{"a type at v6less"}},
	} {
		snap = proto.Clone(snap).(*v1.GslbSnapshot)
		snap.Revision++
		snap.Zones[0].Spec.Records = append(snap.Zones[0].Spec.Records, add)
		next := opts
		next.Previous = prev
		ix, err := Compile(snap, next)
		if err != nil {
			t.Fatal(err)
		}
		scratch, err := Compile(snap, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := nsec(ix), nsec(scratch); got != want {
			t.Errorf("with %s %s added: NODATA's NSEC %q, want %q", add.Name, add.Type, got, want)
		}
		prev = ix
	}
}
