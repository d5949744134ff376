//go:build linux

package main

import (
	"testing"

	"google.golang.org/protobuf/proto"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

func TestSnapshotRevision(t *testing.T) {
	for _, tc := range []struct {
		name   string
		msg    *v1.SubscribeResponse
		rev    int64
		isSnap bool
	}{
		{"snapshot", &v1.SubscribeResponse{Snapshot: &v1.GslbSnapshot{Revision: 4242, Zones: []*v1.GslbZone{{Metadata: &v1.ObjectMeta{Name: "z"}}}}}, 4242, true},
		{"snapshot after freshness", &v1.SubscribeResponse{Freshness: &v1.FeedFreshness{}, Snapshot: &v1.GslbSnapshot{Revision: 7}}, 7, true},
		{"confirmation", &v1.SubscribeResponse{Freshness: &v1.FeedFreshness{}}, 0, false},
		{"current", &v1.SubscribeResponse{Current: &v1.SnapshotCurrent{Revision: 9}}, 0, false},
	} {
		b, err := proto.Marshal(tc.msg)
		if err != nil {
			t.Fatal(err)
		}
		rev, ok := snapshotRevision(b)
		if rev != tc.rev || ok != tc.isSnap {
			t.Errorf("%s: got revision %d, snapshot %t; want %d, %t", tc.name, rev, ok, tc.rev, tc.isSnap)
		}
	}
}
