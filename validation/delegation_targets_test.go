package validation

import (
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

// TestApplyReadsTheAppliedDelegationTargets changes the name servers of a
// stored delegation over a zone's address record: the record is glue
// only while the delegation names it, and the apply is judged by the
// name servers it brings, not by the stored ones, whichever way it goes.
func TestApplyReadsTheAppliedDelegationTargets(t *testing.T) {
	outer := func(target string) *v1.GslbZone {
		z := proto.Clone(newFixture().zone).(*v1.GslbZone)
		z.Metadata.Name = "outer"
		z.Spec.Zone = "example.com."
		z.Spec.NameServers = []*v1.NameServer{{Name: "ns2.example.net."}}
		z.Spec.Records = []*v1.StaticRecord{{Name: "child.gslb", Type: v1.RecordType_RECORD_TYPE_NS, Values: []string{target}}}
		return z
	}
	const glue, away = "ns1.child.gslb.example.com.", "ns.example.net."
	for _, tc := range []struct {
		name, stored, applied, want string
	}{
		{"to a name server elsewhere", glue, away,
			`GslbZone "outer": spec.records[0].name "child.gslb": the delegation of "child.gslb.example.com." hides the static A records of GslbZone "gslb" at "ns1.child.gslb.example.com.": the child zone answers below it; remove them or the delegation`},
		{"to the name server the record is the glue of", away, glue, ``},
		{"unchanged", glue, glue, ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			f.zone.Spec.Records = append(f.zone.Spec.Records, &v1.StaticRecord{Name: "ns1.child", Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"198.51.100.54"}})
			st := newFixture().state()
			st.Put(wrap(f.zone)[0])
			st.Put(wrap(outer(tc.stored))[0])
			got := errString(CheckApply(wrap(outer(tc.applied)), st, testOpts))
			if got != tc.want {
				t.Errorf("CheckApply errors:\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}
