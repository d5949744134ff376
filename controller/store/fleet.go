package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/anyctl/anyctl/compile"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// DrainRecord is where one PoP stands in a drain or undrain, stored as
// JSON at DrainKey.
type DrainRecord struct {
	Step compile.DrainStep `json:"step"`
	// Since is when the PoP entered Step.
	Since time.Time `json:"since"`
	// Draining is true while moving out of service, false while moving back.
	Draining bool `json:"draining"`
	// GslbWait is how long the PoP stays out of GSLB answers before its
	// announcements change: the longest TTL a resolver may cache it for.
	GslbWait time.Duration `json:"gslbWait"`
	// Period is how long announcements carry GRACEFUL_SHUTDOWN.
	Period time.Duration `json:"period"`
	// ModRevision is the record's etcd mod revision, for guarded updates;
	// it is not stored.
	ModRevision int64 `json:"-"`
}

// DrainWrite is a PoP's drain record, encoded, with the condition its
// write commits under.
type DrainWrite struct {
	pop  string
	cond clientv3.Cmp
	put  clientv3.Op
	// audit is the history record of an operator's drain or undrain, in
	// the same transaction; nil for the leader's steps.
	audit *clientv3.Op
}

// Audited returns w with a history record of it, made by the author ctx
// carries (WithAuthor) as operation op ("drain", "undrain") with detail.
// rev is the desired-state revision the caller has seen: it places the
// record among those of the desired-state writes.
func (w DrainWrite) Audited(ctx context.Context, rev int64, op, detail string) (DrainWrite, error) {
	a := authorOf(ctx, op)
	a.Operation, a.Detail = op, detail
	// The Pop is named, unchanged, so that its history shows the drain.
	pop := &v1.HistoryChange{Kind: v1.Kind_KIND_POP, Name: w.pop, Action: v1.ApplyAction_APPLY_ACTION_UNCHANGED}
	rec, err := a.recordAt(fmt.Sprintf("%s/%s/%s/%d", historyKey(rev), op, w.pop, time.Now().UnixNano()), []*v1.HistoryChange{pop})
	if err != nil {
		return w, err
	}
	w.audit = &rec
	return w, nil
}

// ops are the operations of w's transaction besides the guard's.
func (w DrainWrite) ops() []clientv3.Op {
	if w.audit == nil {
		return []clientv3.Op{w.put}
	}
	return []clientv3.Op{w.put, *w.audit}
}

// NewDrainWrite encodes a PoP's drain record for a guarded write: a new
// record (existing false) must not exist yet, an existing one must be
// unchanged since it was read (r.ModRevision).
func NewDrainWrite(pop string, r DrainRecord, existing bool) (DrainWrite, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return DrainWrite{}, fmt.Errorf("drain state of Pop %q: %w", pop, err)
	}
	key := DrainKey(pop)
	cond := clientv3.Compare(clientv3.CreateRevision(key), "=", 0)
	if existing {
		cond = clientv3.Compare(clientv3.ModRevision(key), "=", r.ModRevision)
	}
	return DrainWrite{pop: pop, cond: cond, put: clientv3.OpPut(key, string(b))}, nil
}

// PutDrain commits w if its condition holds. It reports whether it did,
// and the revision the transaction committed or saw.
func (s *Store) PutDrain(ctx context.Context, w DrainWrite) (ok bool, rev int64, err error) {
	resp, err := s.cli.Txn(ctx).If(w.cond).Then(w.ops()...).Commit()
	if err != nil {
		return false, 0, err
	}
	return resp.Succeeded, resp.Header.Revision, nil
}

// StartDrain commits w together with a write of DrainGuardKey, if w's
// condition holds and, when guardRev is not negative, the guard is still at
// guardRev (its mod revision when the drain was checked). It reports
// whether it did, and the revision the transaction committed or saw.
func (s *Store) StartDrain(ctx context.Context, w DrainWrite, guardRev int64) (ok bool, rev int64, err error) {
	cmps := []clientv3.Cmp{w.cond}
	if guardRev >= 0 {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(DrainGuardKey), "=", guardRev))
	}
	resp, err := s.cli.Txn(ctx).If(cmps...).Then(append(w.ops(), clientv3.OpPut(DrainGuardKey, w.pop))...).Commit()
	if err != nil {
		return false, 0, err
	}
	return resp.Succeeded, resp.Header.Revision, nil
}

// FleetKind tells the keys under FleetPrefix apart.
type FleetKind int

const (
	// FleetDrain is a PoP's drain record (DrainKey).
	FleetDrain FleetKind = iota + 1
	// FleetHolds is the withdrawal budget's holds (HoldsKey).
	FleetHolds
	// FleetDrainGuard is the drain guard (DrainGuardKey).
	FleetDrainGuard
)

// FleetKey is a key under FleetPrefix.
type FleetKey struct {
	Kind FleetKind
	// Pop is the PoP of a drain record.
	Pop string
}

// FleetRecord is the value of a key under FleetPrefix; which field is set
// follows the key's kind.
type FleetRecord struct {
	// Drain is a PoP's drain record, with its ModRevision.
	Drain DrainRecord
	// Holds are the withdrawal budget's holds: the PoPs held announcing,
	// by service.
	Holds map[string][]string
	// ModRevision is the key's mod revision (for the drain guard, the
	// revision of the last drain that started).
	ModRevision int64
}

// FleetMirror returns a mirror of the fleet state. An unreadable drain
// record is skipped with a warning; unreadable holds are read as none.
func (s *Store) FleetMirror(sink Sink[FleetKey, FleetRecord]) *Mirror[FleetKey, FleetRecord] {
	return newMirror(s, codec[FleetKey, FleetRecord]{
		name:   "fleet state",
		prefix: FleetPrefix,
		key:    fleetKeyOf,
		decode: s.decodeFleet,
		skip:   true,
	}, sink)
}

func (s *Store) decodeFleet(kv *mvccpb.KeyValue) (FleetKey, FleetRecord, error) {
	k, err := fleetKeyOf(string(kv.Key))
	if err != nil {
		return k, FleetRecord{}, err
	}
	r := FleetRecord{ModRevision: kv.ModRevision}
	switch k.Kind {
	case FleetDrain:
		if err := json.Unmarshal(kv.Value, &r.Drain); err != nil {
			return k, r, fmt.Errorf("drain record of Pop %q: %w", k.Pop, err)
		}
		r.Drain.ModRevision = kv.ModRevision
	case FleetHolds:
		if err := json.Unmarshal(kv.Value, &r.Holds); err != nil {
			s.log.Warn("skipping unreadable budget holds", "err", err)
			r.Holds = nil
		}
		if r.Holds == nil {
			r.Holds = map[string][]string{}
		}
	}
	return k, r, nil
}

// fleetKeyOf parses a key under FleetPrefix.
func fleetKeyOf(key string) (FleetKey, error) {
	switch {
	case key == HoldsKey:
		return FleetKey{Kind: FleetHolds}, nil
	case key == DrainGuardKey:
		return FleetKey{Kind: FleetDrainGuard}, nil
	case strings.HasPrefix(key, DrainPrefix):
		return FleetKey{Kind: FleetDrain, Pop: key[len(DrainPrefix):]}, nil
	}
	return FleetKey{}, fmt.Errorf("key %q is none of %s<pop>, %s and %s", key, DrainPrefix, HoldsKey, DrainGuardKey)
}
