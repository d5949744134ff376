package store

import (
	"errors"
	"strings"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// TestApplyWhenEtcdIsOutOfSpace raises etcd's NOSPACE alarm, as etcd does
// when its database reaches its quota: an apply is refused with an error
// that names the cause and the remedy, and changes nothing.
func TestApplyWhenEtcdIsOutOfSpace(t *testing.T) {
	s, cli := newStore(t)
	ctx := testContext(t)
	mustApply(t, s, pop("london", 64500))
	st, err := cli.Status(ctx, cli.Endpoints()[0])
	if err != nil {
		t.Fatal(err)
	}
	_, err = pb.NewMaintenanceClient(cli.ActiveConnection()).Alarm(ctx, &pb.AlarmRequest{
		Action: pb.AlarmRequest_ACTIVATE, MemberID: st.Header.MemberId, Alarm: pb.AlarmType_NOSPACE,
	})
	if err != nil {
		t.Fatal(err)
	}
	before := dump(t, cli)
	_, err = s.Apply(ctx, []*v1.Object{pop("london", 64501), origin("fra", 10)}, false, nil)
	t.Logf("apply: %v", err)
	if !errors.Is(err, ErrNoSpace) {
		t.Errorf("apply: %v; want an error wrapping ErrNoSpace", err)
	}
	for _, want := range []string{"database space exceeded", "nothing was written", "etcdctl defrag", "--quota-backend-bytes", "etcdctl alarm disarm"} {
		if err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("apply: %v; want it to say %q", err, want)
		}
	}
	if after := dump(t, cli); after != before {
		t.Errorf("the refused apply changed etcd:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
