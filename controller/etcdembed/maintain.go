package etcdembed

import (
	"context"
	"log/slog"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

const (
	// DefragCheckEvery is how often the member's database is looked at for
	// space to give back.
	DefragCheckEvery = 5 * time.Minute
	// DefragMinFreeBytes and DefragMinFreeRatio say when the database is
	// defragmented: when at least this much of the file, and at least this
	// share of it, is free pages that compaction left. Defragmentation
	// rewrites the file and blocks the member while it runs (about a second
	// per 100 MiB in use), so it runs only when it gives back real space.
	DefragMinFreeBytes = 64 << 20
	DefragMinFreeRatio = 0.5
)

// maintain keeps the member's database from growing without bound until
// ctx ends: every DefragCheckEvery it defragments when compaction has left
// enough free pages (defragDue), and clears a NOSPACE alarm once the
// database is back under the quota with room to spare, which etcd never
// does by itself. Compaction itself is etcd's periodic auto-compaction.
func (s *Server) maintain(ctx context.Context, cli *clientv3.Client, log *slog.Logger, quota int64, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.maintainOnce(ctx, cli, log, quota)
	}
}

// maintainOnce is one look at the database.
func (s *Server) maintainOnce(ctx context.Context, cli *clientv3.Client, log *slog.Logger, quota int64) {
	ep := s.endpoints[0]
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	st, err := cli.Status(cctx, ep)
	if err != nil {
		log.Warn("etcd maintenance: reading the member's status failed", "err", err)
		return
	}
	alarms, err := cli.AlarmList(cctx)
	if err != nil {
		log.Warn("etcd maintenance: listing alarms failed", "err", err)
		return
	}
	nospace := false
	for _, a := range alarms.Alarms {
		nospace = nospace || a.Alarm == pb.AlarmType_NOSPACE
	}
	if defragDue(st.DbSize, st.DbSizeInUse) || nospace && st.DbSize > st.DbSizeInUse {
		start := time.Now()
		if _, err := cli.Defragment(cctx, ep); err != nil {
			log.Warn("etcd maintenance: defragmentation failed", "err", err, "db_bytes", st.DbSize, "in_use_bytes", st.DbSizeInUse)
			return
		}
		after, err := cli.Status(cctx, ep)
		if err != nil {
			log.Warn("etcd maintenance: reading the member's status failed", "err", err)
			return
		}
		log.Info("etcd database defragmented", "db_bytes_before", st.DbSize, "db_bytes_after", after.DbSize, "took", time.Since(start))
		st = after
	}
	if nospace && st.DbSizeInUse < quota*8/10 {
		if _, err := cli.AlarmDisarm(cctx, &clientv3.AlarmMember{MemberID: st.Header.MemberId, Alarm: pb.AlarmType_NOSPACE}); err != nil {
			log.Warn("etcd maintenance: clearing the NOSPACE alarm failed", "err", err)
			return
		}
		log.Warn("etcd NOSPACE alarm cleared: the database is back under 80% of its quota", "in_use_bytes", st.DbSizeInUse, "quota_bytes", quota)
	}
}

// defragDue says whether a database of size bytes, inUse of them in use,
// has enough free space to be worth defragmenting.
func defragDue(size, inUse int64) bool {
	free := size - inUse
	return free >= DefragMinFreeBytes && float64(free) >= DefragMinFreeRatio*float64(size)
}
