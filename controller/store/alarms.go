package store

import (
	"context"
	"fmt"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// Alarms lists etcd's active alarms, each a sentence naming the member
// and what the alarm means for the controller.
func (s *Store) Alarms(ctx context.Context) ([]string, error) {
	resp, err := s.cli.AlarmList(ctx)
	if err != nil {
		return nil, fmt.Errorf("list etcd alarms: %w", err)
	}
	var out []string
	for _, a := range resp.Alarms {
		switch a.Alarm {
		case pb.AlarmType_NOSPACE:
			out = append(out, fmt.Sprintf("NOSPACE on etcd member %x: the database reached its quota and every write fails (applies, drains, reports) until space is freed: compact, defragment, then disarm the alarm (the embedded etcd does this itself once there is room)", a.MemberID))
		case pb.AlarmType_CORRUPT:
			out = append(out, fmt.Sprintf("CORRUPT on etcd member %x: its data differs from the other members'; restore it from a backup or a healthy member", a.MemberID))
		default:
			out = append(out, fmt.Sprintf("%s on etcd member %x", a.Alarm, a.MemberID))
		}
	}
	return out, nil
}
