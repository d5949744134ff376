package etcdembed

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func TestDefragDue(t *testing.T) {
	for _, c := range []struct {
		size, inUse int64
		want        bool
	}{
		{0, 0, false},
		{100 << 20, 90 << 20, false}, // little free
		{100 << 20, 30 << 20, true},  // 70 MiB free, 70%
		{60 << 20, 10 << 20, false},  // mostly free but under 64 MiB
		{1 << 30, 600 << 20, false},  // 424 MiB free, under half
		{1 << 30, 400 << 20, true},
	} {
		if got := defragDue(c.size, c.inUse); got != c.want {
			t.Errorf("defragDue(%d, %d) = %v, want %v", c.size, c.inUse, got, c.want)
		}
	}
}

// TestFullDatabaseIsFreedAndAlarmCleared fills a member with a small quota
// until etcd refuses writes with its NOSPACE alarm, then deletes the data
// and compacts, as an operator would: the maintenance defragments the
// database and clears the alarm, and writes work again.
func TestFullDatabaseIsFreedAndAlarmCleared(t *testing.T) {
	const quota = 16 << 20
	s, err := Start(testContext(t), Config{
		Dir: dataDir(t), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), UnsafeNoFsync: true,
		QuotaBytes: quota, MaintainEvery: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cli, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx := testContext(t)
	value := strings.Repeat("x", 256<<10)
	var putErr error
	for i := 0; i < 200 && putErr == nil; i++ {
		_, putErr = cli.Put(ctx, fmt.Sprintf("/fill/%03d", i), value)
	}
	if !errors.Is(putErr, rpctypes.ErrNoSpace) {
		t.Fatalf("filling a %d-byte quota: got %v, want %v", quota, putErr, rpctypes.ErrNoSpace)
	}
	if !hasNospace(t, cli) {
		t.Fatal("no NOSPACE alarm after etcd refused a write for space")
	}

	del, err := cli.Delete(ctx, "/fill/", clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("deleting under NOSPACE: %v", err)
	}
	if _, err := cli.Compact(ctx, del.Header.Revision); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for hasNospace(t, cli) {
		if time.Now().After(deadline) {
			t.Fatal("the NOSPACE alarm was not cleared after the data was deleted and compacted")
		}
		time.Sleep(50 * time.Millisecond)
	}
	st, err := cli.Status(ctx, s.Endpoints()[0])
	if err != nil {
		t.Fatal(err)
	}
	if st.DbSize >= quota/2 {
		t.Errorf("database is %d bytes after defragmentation, want it given back (quota %d)", st.DbSize, quota)
	}
	if _, err := cli.Put(ctx, "/after", "ok"); err != nil {
		t.Fatalf("write after the alarm was cleared: %v", err)
	}
}

func hasNospace(t *testing.T, cli *clientv3.Client) bool {
	t.Helper()
	resp, err := cli.AlarmList(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range resp.Alarms {
		if a.Alarm == pb.AlarmType_NOSPACE {
			return true
		}
	}
	return false
}
