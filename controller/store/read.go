package store

import (
	"context"
	"fmt"
	"slices"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Get returns one object with its versions set, or a *NotFoundError.
func (s *Store) Get(ctx context.Context, ref resource.Ref) (*v1.Object, error) {
	if err := checkRef(ref); err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	var resp *clientv3.GetResponse
	err := etcdCall(ctx, ReadTimeout, func(ctx context.Context) (err error) {
		resp, err = s.cli.Get(ctx, Key(ref))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", ref, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, &NotFoundError{Ref: ref}
	}
	return decode(resp.Kvs[0])
}

// List returns the objects of one kind in name order, or of every kind
// (KIND_UNSPECIFIED) in resource.Kinds order, and the revision they were
// read at. Watch from that revision+1 to see every later change.
func (s *Store) List(ctx context.Context, kind v1.Kind) ([]*v1.Object, int64, error) {
	if err := checkKind(kind, true); err != nil {
		return nil, 0, fmt.Errorf("list: %w", err)
	}
	var resp *clientv3.GetResponse
	err := etcdCall(ctx, ReadTimeout, func(ctx context.Context) (err error) {
		resp, err = s.cli.Get(ctx, kindPrefix(kind), clientv3.WithPrefix())
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", kindPrefix(kind), err)
	}
	objs := make([]*v1.Object, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		o, err := decode(kv)
		if err != nil {
			return nil, 0, err
		}
		objs = append(objs, o)
	}
	// Keys are in byte order: names within a kind are sorted already.
	order := resource.Kinds()
	slices.SortStableFunc(objs, func(a, b *v1.Object) int {
		return slices.Index(order, resource.KindOf(a)) - slices.Index(order, resource.KindOf(b))
	})
	return objs, resp.Header.Revision, nil
}

// State returns the whole desired state at one revision.
func (s *Store) State(ctx context.Context) (*resource.State, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return snap.state, nil
}

// snapshot is the desired state and the guard, read at one revision.
type snapshot struct {
	state *resource.State
	// values are the stored encodings, by object.
	values map[resource.Ref][]byte
	// guardRev is the guard key's mod revision, 0 before the first write.
	guardRev int64
	// held marks a state the caller keeps rather than one read with the
	// guard: guardRev is unknown, and values hold only the objects
	// written.
	held bool
}

// heldSnapshot is a snapshot of a state the caller keeps current (the
// controller's cache) at state.Revision, with the stored encodings of the
// objects refs name, so a write need not read the whole state again.
func heldSnapshot(state *resource.State, refs []resource.Ref) (*snapshot, error) {
	snap := &snapshot{state: state, values: make(map[resource.Ref][]byte, len(refs)), held: true}
	for _, ref := range refs {
		if o := state.Get(ref); o != nil {
			v, err := encode(o)
			if err != nil {
				return nil, err
			}
			snap.values[ref] = v
		}
	}
	return snap, nil
}

// snapshot reads every desired-state object and the guard in one
// transaction, so both are of one revision.
func (s *Store) snapshot(ctx context.Context) (*snapshot, error) {
	var resp *clientv3.TxnResponse
	err := etcdCall(ctx, ReadTimeout, func(ctx context.Context) (err error) {
		resp, err = s.cli.Txn(ctx).Then(
			clientv3.OpGet(DesiredPrefix, clientv3.WithPrefix()),
			clientv3.OpGet(GuardKey),
		).Commit()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read desired state: %w", err)
	}
	kvs := resp.Responses[0].GetResponseRange().GetKvs()
	snap := &snapshot{
		state:  resource.NewState(),
		values: make(map[resource.Ref][]byte, len(kvs)),
	}
	snap.state.Revision = resp.Header.Revision
	for _, kv := range kvs {
		o, err := decode(kv)
		if err != nil {
			return nil, err
		}
		snap.state.Put(o)
		snap.values[resource.RefOf(o)] = kv.Value
	}
	if g := resp.Responses[1].GetResponseRange().GetKvs(); len(g) > 0 {
		snap.guardRev = g[0].ModRevision
	}
	return snap, nil
}

// LastDesiredWrite returns the revision of the last desired-state write
// (the guard key's mod revision, which every such write moves; 0 when
// none was made), read from etcd's leader within ReadTimeout.
func (s *Store) LastDesiredWrite(ctx context.Context) (int64, error) {
	var resp *clientv3.GetResponse
	err := etcdCall(ctx, ReadTimeout, func(ctx context.Context) (err error) {
		resp, err = s.cli.Get(ctx, GuardKey)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("read the desired-state guard: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return 0, nil
	}
	return resp.Kvs[0].ModRevision, nil
}
