package popstatus

import (
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

// TestSameReportKnowsEveryField fails when a report message gains a
// field: Same compares field by field and must learn it.
func TestSameReportKnowsEveryField(t *testing.T) {
	for _, c := range []struct {
		msg  proto.Message
		want int
	}{
		{&v1.PopStatus{}, 9}, {&v1.PeerStatus{}, 8}, {&v1.PrefixStatus{}, 9}, {&v1.CheckStatus{}, 7}, {&v1.OriginProbeResult{}, 4},
	} {
		d := c.msg.ProtoReflect().Descriptor()
		if got := d.Fields().Len(); got != c.want {
			t.Errorf("%s has %d fields, Same knows %d: compare the new ones in popstatus/same.go", d.FullName(), got, c.want)
		}
	}
}

// TestSameButRevision: two reports that differ only in their config
// revision are SameButRevision and not Same; any other difference makes
// them neither.
func TestSameButRevision(t *testing.T) {
	a := &v1.PopStatus{Pop: "tokyo", ConfigRevision: 1, Checks: []*v1.CheckStatus{{Service: "edge-dns", Healthy: true}}}
	b := &v1.PopStatus{Pop: "tokyo", ConfigRevision: 2, Checks: []*v1.CheckStatus{{Service: "edge-dns", Healthy: true}}}
	c := &v1.PopStatus{Pop: "tokyo", ConfigRevision: 2, Checks: []*v1.CheckStatus{{Service: "edge-dns", Healthy: false}}}
	if Same(a, b) || !SameButRevision(a, b) {
		t.Errorf("reports differing only in revision: Same %v, SameButRevision %v; want false, true", Same(a, b), SameButRevision(a, b))
	}
	if SameButRevision(a, c) || Same(b, c) {
		t.Error("reports differing in a check's health count as the same")
	}
}
