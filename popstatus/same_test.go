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
