package popstatus

import (
	"testing"
	"time"

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

// TestSameRTT: an RTT within one step of the stored one's rounding says
// the same, one further away does not.
func TestSameRTT(t *testing.T) {
	for _, c := range []struct {
		stored, next time.Duration
		want         bool
	}{
		{23400 * time.Microsecond, 23600 * time.Microsecond, true},  // 23 and 24 ms
		{23600 * time.Microsecond, 23400 * time.Microsecond, true},  // 24 and 23 ms
		{23400 * time.Microsecond, 24600 * time.Microsecond, false}, // 23 and 25 ms
		{99 * time.Millisecond, 104 * time.Millisecond, true},       // 99 and 100 ms
		{100 * time.Millisecond, 99 * time.Millisecond, true},
		{100 * time.Millisecond, 120 * time.Millisecond, false},
		{87 * time.Microsecond, 88 * time.Microsecond, true},
		{87 * time.Microsecond, 89 * time.Microsecond, false},
	} {
		if got := SameRTT(c.stored, c.next); got != c.want {
			t.Errorf("SameRTT(%v, %v) = %v, want %v", c.stored, c.next, got, c.want)
		}
	}
}
