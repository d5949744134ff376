package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// BackupFormat is the version of the Backup message this store writes and
// reads.
const BackupFormat = 1

// padKey is what a restore writes to move the store's revision up to the
// revisions of the objects it restores: etcd has no other way to set one.
const padKey = root + "meta/restore-pad"

// Backup reads the desired state (with versions), the fleet state, the
// history and its floor at one revision.
func (s *Store) Backup(ctx context.Context) (*v1.Backup, error) {
	var resp *clientv3.TxnResponse
	err := etcdCall(ctx, ReadTimeout, func(ctx context.Context) (err error) {
		resp, err = s.cli.Txn(ctx).Then(
			clientv3.OpGet(DesiredPrefix, clientv3.WithPrefix()),
			clientv3.OpGet(FleetPrefix, clientv3.WithPrefix()),
			clientv3.OpGet(HistoryPrefix, clientv3.WithPrefix()),
			clientv3.OpGet(HistoryFloorKey),
		).Commit()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	b := &v1.Backup{FormatVersion: BackupFormat, TakenAt: timestamppb.Now(), Revision: resp.Header.Revision}
	for _, kv := range resp.Responses[0].GetResponseRange().GetKvs() {
		o, err := decode(kv)
		if err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
		b.Objects = append(b.Objects, o)
	}
	for _, kv := range resp.Responses[1].GetResponseRange().GetKvs() {
		b.Fleet = append(b.Fleet, &v1.BackupKeyValue{Key: string(kv.Key[len(FleetPrefix):]), Value: kv.Value})
	}
	for _, kv := range resp.Responses[2].GetResponseRange().GetKvs() {
		e, err := decodeEntry(kv.Key, kv.Value, kv.ModRevision)
		if err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
		b.History = append(b.History, e)
	}
	if kvs := resp.Responses[3].GetResponseRange().GetKvs(); len(kvs) > 0 {
		if b.HistoryFloor, err = strconv.ParseInt(string(kvs[0].Value), 10, 64); err != nil {
			return nil, fmt.Errorf("backup: history floor %q: %w", kvs[0].Value, err)
		}
	}
	return b, nil
}

// NotEmptyError refuses a restore into a cluster that holds desired state
// or history, unless forced.
type NotEmptyError struct {
	Objects, History int
	Revision         int64
}

func (e *NotEmptyError) Error() string {
	return fmt.Sprintf("restore: the cluster is not empty: it holds %d objects and %d history records (revision %d); a restore replaces all of them: give --force to do so, or restore into a fresh cluster", e.Objects, e.History, e.Revision)
}

// RestoreResult is what a restore wrote.
type RestoreResult struct {
	Objects, History, Fleet int
	// Renumbered counts the objects whose versions differ from the
	// backup's: the store was already past them, or another write came
	// between.
	Renumbered int
	Revision   int64
	// StateRevision is that of the last desired-state write, 0 for none;
	// FleetRevision that of the fleet state's, 0 for none.
	StateRevision, FleetRevision int64
}

// CheckBackup refuses a backup that this store cannot restore as it is: of
// another format, or holding an object twice, an object without a name or
// a history record without a revision. check, when not nil, validates the
// objects as a whole state, as an apply would.
func CheckBackup(b *v1.Backup, check ApplyCheck) error {
	if b.GetFormatVersion() != BackupFormat {
		return requestErrorf("restore: backup format version %d: this controller reads version %d", b.GetFormatVersion(), BackupFormat)
	}
	seen := map[resource.Ref]bool{}
	for i, o := range b.GetObjects() {
		ref := resource.RefOf(o)
		if err := checkRef(ref); err != nil {
			return fmt.Errorf("restore: objects[%d]: %w", i, err)
		}
		if seen[ref] {
			return requestErrorf("restore: %s is in the backup twice", ref)
		}
		seen[ref] = true
		if m := resource.Meta(o); m.GetResourceVersion() <= 0 || m.GetCreateRevision() <= 0 || m.GetCreateRevision() > m.GetResourceVersion() {
			return requestErrorf("restore: %s: versions %d (created %d) are not those of a stored object", ref, m.GetResourceVersion(), m.GetCreateRevision())
		}
	}
	for i, e := range b.GetHistory() {
		if e.GetRevision() <= 0 {
			return requestErrorf("restore: history[%d]: revision %d: want the revision of a write", i, e.GetRevision())
		}
	}
	if check != nil {
		if err := check(b.GetObjects(), resource.NewState()); err != nil {
			return err
		}
	}
	return nil
}

// Restore writes a backup checked with CheckBackup. Unless force, it
// refuses (*NotEmptyError) a store that holds desired state or history;
// with force it deletes them, and the fleet state, first. Objects keep
// their versions where the store's revision allows: each is written at
// its create revision and again at its mod revision, the revision moved
// up to them by writes of padKey. The history records keep their
// revisions, and a record of the restore itself is added.
func (s *Store) Restore(ctx context.Context, b *v1.Backup, force, dryRun bool) (RestoreResult, error) {
	res := RestoreResult{Objects: len(b.GetObjects()), History: len(b.GetHistory()), Fleet: len(b.GetFleet())}
	var cur *clientv3.TxnResponse
	err := etcdCall(ctx, ReadTimeout, func(ctx context.Context) (err error) {
		cur, err = s.cli.Txn(ctx).Then(
			clientv3.OpGet(DesiredPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly()),
			clientv3.OpGet(HistoryPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly()),
		).Commit()
		return err
	})
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	objs, hist := cur.Responses[0].GetResponseRange().GetCount(), cur.Responses[1].GetResponseRange().GetCount()
	if (objs > 0 || hist > 0) && !force {
		return res, &NotEmptyError{Objects: int(objs), History: int(hist), Revision: cur.Header.Revision}
	}
	if dryRun {
		return res, nil
	}
	rev := cur.Header.Revision
	if force {
		r, err := s.cli.Txn(ctx).Then(
			clientv3.OpDelete(DesiredPrefix, clientv3.WithPrefix()),
			clientv3.OpDelete(FleetPrefix, clientv3.WithPrefix()),
			clientv3.OpDelete(HistoryPrefix, clientv3.WithPrefix()),
			clientv3.OpPut(GuardKey, ""),
		).Commit()
		if err != nil {
			return res, fmt.Errorf("restore: clearing the cluster: %w", err)
		}
		rev = r.Header.Revision
		res.StateRevision, res.FleetRevision = rev, rev
	}

	// Each object at its create revision, then at its mod revision.
	type put struct {
		rev int64
		obj *v1.Object
	}
	var puts []put
	for _, o := range b.GetObjects() {
		m := resource.Meta(o)
		puts = append(puts, put{m.GetCreateRevision(), o})
		if m.GetResourceVersion() != m.GetCreateRevision() {
			puts = append(puts, put{m.GetResourceVersion(), o})
		}
	}
	slices.SortStableFunc(puts, func(a, b put) int { return int(a.rev - b.rev) })
	final := map[resource.Ref][2]int64{} // create, mod as written
	for i := 0; i < len(puts); {
		j := i
		for j < len(puts) && puts[j].rev == puts[i].rev {
			j++
		}
		if rev, err = s.padTo(ctx, rev, puts[i].rev-1); err != nil {
			return res, err
		}
		ops := []clientv3.Op{clientv3.OpPut(GuardKey, "")}
		for _, p := range puts[i:j] {
			v, err := encode(p.obj)
			if err != nil {
				return res, err
			}
			ops = append(ops, clientv3.OpPut(Key(resource.RefOf(p.obj)), string(v)))
		}
		r, err := s.cli.Txn(ctx).Then(ops...).Commit()
		if err != nil {
			return res, fmt.Errorf("restore: writing objects of revision %d: %w", puts[i].rev, err)
		}
		rev = r.Header.Revision
		res.StateRevision = rev
		for _, p := range puts[i:j] {
			ref := resource.RefOf(p.obj)
			f, seen := final[ref]
			if !seen {
				f[0] = rev
			}
			f[1] = rev
			final[ref] = f
		}
		i = j
	}
	for _, o := range b.GetObjects() {
		m := resource.Meta(o)
		if f := final[resource.RefOf(o)]; f[0] != m.GetCreateRevision() || f[1] != m.GetResourceVersion() {
			res.Renumbered++
		}
	}

	// Past the backup's revision, so that the records of later writes,
	// keyed by the revisions they are planned on, sort after the restored
	// ones.
	if rev, err = s.padTo(ctx, rev, b.GetRevision()); err != nil {
		return res, err
	}
	var ops []clientv3.Op
	for _, kv := range b.GetFleet() {
		ops = append(ops, clientv3.OpPut(FleetPrefix+kv.GetKey(), string(kv.GetValue())))
	}
	for _, e := range b.GetHistory() {
		v, err := marshalEntry(e)
		if err != nil {
			return res, err
		}
		// Keys only order the records: the revision before the write's
		// sorts as the planned-on revision did.
		ops = append(ops, clientv3.OpPut(historyKey(e.GetRevision()-1), string(v)))
	}
	ops = append(ops, clientv3.OpPut(HistoryFloorKey, strconv.FormatInt(b.GetHistoryFloor(), 10)), clientv3.OpDelete(padKey))
	for done := 0; len(ops) > 0; {
		n := min(len(ops), 1000)
		r, err := s.cli.Txn(ctx).Then(ops[:n]...).Commit()
		if err != nil {
			return res, fmt.Errorf("restore: writing fleet state and history: %w", err)
		}
		if done < len(b.GetFleet()) {
			res.FleetRevision = r.Header.Revision // the fleet keys come first
		}
		rev, ops, done = r.Header.Revision, ops[n:], done+n
	}
	a := authorOf(ctx, "restore")
	a.Operation = "restore"
	a.Detail = fmt.Sprintf("of a backup taken at %s (revision %d): %d objects, %d history records",
		b.GetTakenAt().AsTime().UTC().Format(time.RFC3339), b.GetRevision(), res.Objects, res.History)
	rec, err := a.record(rev, nil)
	if err != nil {
		return res, err
	}
	r, err := s.cli.Txn(ctx).Then(rec).Commit()
	if err != nil {
		return res, fmt.Errorf("restore: recording it: %w", err)
	}
	res.Revision = r.Header.Revision
	return res, nil
}

// padTo writes padKey until the store's revision is at least to, given
// that it is at rev now, and returns the revision reached. Far below, it
// writes up to 256 at once: etcd takes about 2,700 a second so (measured
// on a loaded 2-core machine without fsync).
func (s *Store) padTo(ctx context.Context, rev, to int64) (int64, error) {
	const parallel = 256
	for rev < to {
		// Half the way at most, so that another writer's puts meanwhile
		// cannot carry it past to.
		n := min(parallel, max(1, (to-rev)/2))
		var mu sync.Mutex // guards rev and err
		var err error
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				r, perr := s.cli.Put(ctx, padKey, "")
				mu.Lock()
				defer mu.Unlock()
				if perr != nil {
					err = perr
					return
				}
				rev = max(rev, r.Header.Revision)
			})
		}
		wg.Wait()
		if err != nil {
			return rev, fmt.Errorf("restore: moving the revision up to %d: %w", to, err)
		}
	}
	return rev, nil
}
