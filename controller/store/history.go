package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Author is who makes a write and why, for its history record.
type Author struct {
	// Actor is the caller's certificate CommonName, or "local".
	Actor string
	// Role is the caller's role, empty without TLS.
	Role string
	// Operation is apply, delete, rollback or restore.
	Operation string
	// Detail says more (the revision a rollback went back to).
	Detail string
}

// record returns the put of the history record of a write planned on the
// state at rev. The record's revision is left 0: it is the key's mod
// revision, the write's own, set on read.
func (a Author) record(rev int64, changes []*v1.HistoryChange) (clientv3.Op, error) {
	return a.recordAt(historyKey(rev), changes)
}

// recordAt returns the put of a history record at key.
func (a Author) recordAt(key string, changes []*v1.HistoryChange) (clientv3.Op, error) {
	e := &v1.HistoryEntry{
		Time:      timestamppb.Now(),
		Actor:     a.Actor,
		Role:      a.Role,
		Operation: a.Operation,
		Detail:    a.Detail,
		Changes:   changes,
	}
	b, err := marshalEntry(e)
	if err != nil {
		return clientv3.Op{}, err
	}
	return clientv3.OpPut(key, string(b)), nil
}

// marshalEntry encodes a history record as it is stored, without the
// diffs (they are made on read).
func marshalEntry(e *v1.HistoryEntry) ([]byte, error) {
	if slices.ContainsFunc(e.GetChanges(), func(c *v1.HistoryChange) bool { return c.GetDiff() != "" }) {
		e = proto.Clone(e).(*v1.HistoryEntry)
		for _, c := range e.Changes {
			c.Diff = ""
		}
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("history record: %w", err)
	}
	return b, nil
}

// change is the history of one object's change, its before and after
// without versions.
func change(ref resource.Ref, action v1.ApplyAction, before, after *v1.Object) *v1.HistoryChange {
	return &v1.HistoryChange{Kind: ref.Kind, Name: ref.Name, Action: action, Before: bare(before), After: bare(after)}
}

// bare returns a copy of o without its versions, nil for nil.
func bare(o *v1.Object) *v1.Object {
	if o == nil {
		return nil
	}
	c := proto.Clone(o).(*v1.Object)
	if m := resource.Meta(c); m != nil {
		m.ResourceVersion, m.CreateRevision = 0, 0
	}
	return c
}

// decodeEntry reads a history record; a record without a revision (every
// one but those a restore wrote) has its key's mod revision.
func decodeEntry(key []byte, value []byte, modRev int64) (*v1.HistoryEntry, error) {
	e := &v1.HistoryEntry{}
	if err := proto.Unmarshal(value, e); err != nil {
		return nil, fmt.Errorf("history record %q: %w", key, err)
	}
	if e.Revision == 0 {
		e.Revision = modRev
	}
	return e, nil
}

// historyPage is how many records one read of the history takes.
const historyPage = 200

// scanHistory calls f with each history record, newest first, until f
// returns false. It reads at one revision.
func (s *Store) scanHistory(ctx context.Context, f func(*v1.HistoryEntry) bool) error {
	end := clientv3.GetPrefixRangeEnd(HistoryPrefix)
	var rev int64
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend), clientv3.WithLimit(historyPage)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		var resp *clientv3.GetResponse
		err := etcdCall(ctx, ReadTimeout, func(ctx context.Context) (err error) {
			resp, err = s.cli.Get(ctx, HistoryPrefix, opts...)
			return err
		})
		if err != nil {
			return fmt.Errorf("read history: %w", err)
		}
		rev = resp.Header.Revision
		for _, kv := range resp.Kvs {
			e, err := decodeEntry(kv.Key, kv.Value, kv.ModRevision)
			if err != nil {
				return err
			}
			if !f(e) {
				return nil
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		end = string(resp.Kvs[len(resp.Kvs)-1].Key)
	}
}

// HistoryFilter picks the records of one kind, or of one object.
type HistoryFilter struct {
	Kind v1.Kind
	Name string
}

func (f HistoryFilter) match(c *v1.HistoryChange) bool {
	return (f.Kind == v1.Kind_KIND_UNSPECIFIED || c.Kind == f.Kind) && (f.Name == "" || c.Name == f.Name)
}

// History returns up to limit history records, newest first, with their
// field diffs filled in; a filter keeps the records (and their changes)
// that touch its kind or object. It also returns the history floor.
func (s *Store) History(ctx context.Context, f HistoryFilter, limit int) ([]*v1.HistoryEntry, int64, error) {
	if f.Kind != v1.Kind_KIND_UNSPECIFIED || f.Name != "" {
		if err := checkKind(f.Kind, false); err != nil {
			return nil, 0, fmt.Errorf("history: %w", err)
		}
	}
	var out []*v1.HistoryEntry
	err := s.scanHistory(ctx, func(e *v1.HistoryEntry) bool {
		kept := e.Changes[:0]
		for _, c := range e.Changes {
			if f.match(c) {
				c.Diff = resource.Diff(c.Before, c.After)
				kept = append(kept, c)
			}
		}
		e.Changes = kept
		if len(kept) > 0 || (f.Kind == v1.Kind_KIND_UNSPECIFIED && f.Name == "") {
			out = append(out, e)
		}
		return len(out) < limit
	})
	if err != nil {
		return nil, 0, err
	}
	// A drain's record sorts by the desired-state revision its caller had
	// seen, which may be a little behind its own.
	slices.SortStableFunc(out, func(a, b *v1.HistoryEntry) int { return cmp.Compare(b.Revision, a.Revision) })
	floor, err := s.HistoryFloor(ctx)
	return out, floor, err
}

// HistoryFloor returns the revision after which history is complete.
func (s *Store) HistoryFloor(ctx context.Context) (int64, error) {
	var resp *clientv3.GetResponse
	err := etcdCall(ctx, ReadTimeout, func(ctx context.Context) (err error) {
		resp, err = s.cli.Get(ctx, HistoryFloorKey)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("read history floor: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return 0, nil
	}
	return strconv.ParseInt(string(resp.Kvs[0].Value), 10, 64)
}

// StartHistory sets the history floor, once, to the revision of the last
// desired-state write: writes before it were not recorded (they came before
// this version), so no rollback may reach behind it. On a new cluster it is
// 0.
func (s *Store) StartHistory(ctx context.Context) error {
	return etcdCall(ctx, ReadTimeout, func(ctx context.Context) error {
		g, err := s.cli.Get(ctx, GuardKey)
		if err != nil {
			return err
		}
		var rev int64
		if len(g.Kvs) > 0 {
			rev = g.Kvs[0].ModRevision
		}
		_, err = s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(HistoryFloorKey), "=", 0)).
			Then(clientv3.OpPut(HistoryFloorKey, strconv.FormatInt(rev, 10))).
			Commit()
		return err
	})
}

// ErrHistoryTooShort is wrapped by a rollback to a revision the history no
// longer (or never did) reach back to.
var ErrHistoryTooShort = errors.New("history does not reach back that far")

// Retention is how much history the leader keeps: at most Count records,
// none older than Age. Zero means no limit of that kind.
type Retention struct {
	Count int
	Age   time.Duration
}

// PruneHistory deletes the records beyond the retention, oldest first,
// while the term holds, and raises the floor to the newest one deleted. It
// returns how many it deleted.
func (t *Term) PruneHistory(ctx context.Context, r Retention, now time.Time) (int, error) {
	resp, err := t.s.cli.Get(ctx, HistoryPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("count history: %w", err)
	}
	excess := 0
	if r.Count > 0 && resp.Count > int64(r.Count) {
		excess = int(resp.Count) - r.Count
	}
	deleted := 0
	for {
		page, err := t.s.cli.Get(ctx, HistoryPrefix, clientv3.WithPrefix(), clientv3.WithLimit(historyPage))
		if err != nil {
			return deleted, fmt.Errorf("read history: %w", err)
		}
		var ops []clientv3.Op
		var floor int64
		for _, kv := range page.Kvs {
			e, err := decodeEntry(kv.Key, kv.Value, kv.ModRevision)
			if err != nil {
				return deleted, err
			}
			old := r.Age > 0 && now.Sub(e.GetTime().AsTime()) > r.Age
			if deleted+len(ops) >= excess && !old {
				break
			}
			ops = append(ops, clientv3.OpDelete(string(kv.Key)))
			floor = e.Revision
		}
		if len(ops) == 0 {
			return deleted, nil
		}
		ops = append(ops, clientv3.OpPut(HistoryFloorKey, strconv.FormatInt(floor, 10)))
		if _, _, err := t.commit(ctx, nil, ops...); err != nil {
			return deleted, err
		}
		deleted += len(ops) - 1
		if len(ops)-1 < len(page.Kvs) {
			return deleted, nil
		}
	}
}

type authorKey struct{}

// WithAuthor returns a context whose writes are recorded as a's. The
// operation, when empty, is the write's own (apply, delete).
func WithAuthor(ctx context.Context, a Author) context.Context {
	return context.WithValue(ctx, authorKey{}, a)
}

// authorOf returns the author the context carries, "local" when none, with
// op as the operation unless it names one.
func authorOf(ctx context.Context, op string) Author {
	a, _ := ctx.Value(authorKey{}).(Author)
	if a.Actor == "" {
		a.Actor = "local"
	}
	if a.Operation == "" {
		a.Operation = op
	}
	return a
}
