package store

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/anyctl/anyctl/backoff"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
)

// After a config change every agent acknowledges the new revision
// (StatusUnchanged naming it) at its next report: its status is as before
// but for the revision. Written as full reports, that is one write per
// PoP per change, and every other replica decodes each. Instead each
// replica keeps one record, HeldKey(replica) under its replica lease, of
// the revisions its streams' agents hold beyond their stored reports,
// grouped by revision (v1.HeldRevisions), and rewrites it at most every
// HeldWriteEvery: a change costs a few writes per replica, whatever the
// number of agents. A PoP's revision, as shown, is the larger of its
// stored report's and its entries in the replicas' records. A replica that
// goes away takes its record with its lease; its agents' first report on
// their next stream is a full one, stored with the revision.

const (
	// HeldWriteEvery is the least time between two writes of a replica's
	// record: the acknowledgements that come meanwhile go together. A
	// lone one, after a quiet time, goes at once.
	HeldWriteEvery = 250 * time.Millisecond
	// heldMaxBytes bounds a record, well under etcd's default
	// --max-request-bytes (1.5 MiB): an acknowledgement that does not
	// fit is stored as a full report instead (Set reports false).
	heldMaxBytes = 512 << 10
	// heldEntryBytes is what an entry costs a record beyond its PoP's
	// name (a field tag and length), and a share of its revision's.
	heldEntryBytes = 4
)

// HeldRevisions is a replica's record of the config revisions its agents
// hold beyond their stored reports. Set and Drop change it in memory; Run
// writes it.
type HeldRevisions struct {
	s        *Store
	key      string
	lease    *ReplicaLease
	every    time.Duration
	maxBytes int
	// failed is called for each write that failed (it is tried again).
	failed func(error)

	mu sync.Mutex // guards pops, bytes and ver
	// pops is each PoP's entry.
	pops map[string]heldEntry
	// bytes is the record's size, roughly: the entries' heldEntryBytes
	// and names.
	bytes int
	// ver counts the changes to pops.
	ver uint64
	// kick holds a token when pops changed since Run last looked.
	kick chan struct{}
}

// heldEntry is a PoP's held revision and the stream (owner) that set it.
type heldEntry struct {
	rev   int64
	owner any
}

// HeldRevisions returns the record of replica, written under lease by
// Run; failed, if not nil, is called for each write that failed.
func (s *Store) HeldRevisions(replica string, lease *ReplicaLease, failed func(error)) *HeldRevisions {
	return &HeldRevisions{s: s, key: HeldKey(replica), lease: lease, every: HeldWriteEvery, maxBytes: heldMaxBytes,
		failed: failed, pops: map[string]heldEntry{}, kick: make(chan struct{}, 1)}
}

// Set records that pop's agent, on owner's stream, holds config revision
// rev, to be written within HeldWriteEvery. It reports false, recording
// nothing, when the record has no room for another PoP: the caller stores
// the acknowledgement as a full report.
func (h *HeldRevisions) Set(pop string, owner any, rev int64) bool {
	h.mu.Lock()
	e, had := h.pops[pop]
	if had && e.rev == rev && e.owner == owner {
		h.mu.Unlock()
		return true
	}
	if !had {
		n := len(pop) + heldEntryBytes
		if h.bytes+n > h.maxBytes {
			h.mu.Unlock()
			return false
		}
		h.bytes += n
	}
	h.pops[pop] = heldEntry{rev: rev, owner: owner}
	h.ver++
	h.mu.Unlock()
	h.signal()
	return true
}

// Drop removes pop's entry if owner's stream set it: the stream ended,
// or its agent now reports another revision in full.
func (h *HeldRevisions) Drop(pop string, owner any) { h.DropAtMost(pop, owner, math.MaxInt64) }

// DropAtMost removes pop's entry if owner's stream set it and its
// revision is rev or older: the PoP's stored report, at revision rev, now
// says as much.
func (h *HeldRevisions) DropAtMost(pop string, owner any, rev int64) {
	h.mu.Lock()
	e, had := h.pops[pop]
	if !had || e.owner != owner || e.rev > rev {
		h.mu.Unlock()
		return
	}
	delete(h.pops, pop)
	h.bytes -= len(pop) + heldEntryBytes
	h.ver++
	h.mu.Unlock()
	h.signal()
}

// Held returns pop's entry, 0 when it has none.
func (h *HeldRevisions) Held(pop string) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pops[pop].rev
}

func (h *HeldRevisions) signal() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// Run writes the record when it changes, at most every HeldWriteEvery,
// until ctx ends: the entries as they are when the write starts, the key
// deleted when there are none. A write that fails is tried again, with a
// growing wait, with the entries as they are then. When the lease it was
// written under is lost, the record (gone with it) is written again under
// the next lease if it has entries.
func (h *HeldRevisions) Run(ctx context.Context) {
	var (
		written uint64 // ver last written
		stored  bool   // the key may exist
		lost    <-chan struct{}
		last    time.Time
	)
	for {
		select {
		case <-h.kick:
		case <-lost:
			// The record went with the lease.
			lost, stored = nil, false
			h.mu.Lock()
			if len(h.pops) > 0 {
				written = h.ver - 1
			}
			h.mu.Unlock()
		case <-ctx.Done():
			return
		}
		if wait := h.every - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
		var bo *backoff.Backoff
		for {
			h.mu.Lock()
			ver := h.ver
			var rec []byte
			if ver != written {
				rec = h.recordLocked()
			}
			h.mu.Unlock()
			if ver == written || (rec == nil && !stored) {
				written = ver
				break
			}
			last = time.Now()
			l, err := h.write(ctx, rec)
			if err == nil {
				written, stored = ver, rec != nil
				if l != nil {
					lost = l
				}
				break
			}
			if ctx.Err() != nil {
				return
			}
			if h.failed != nil {
				h.failed(err)
			}
			if bo == nil {
				h.s.log.Warn("writing the replica's held config revisions failed; trying again", "err", err)
				bo = backoff.New(200*time.Millisecond, 5*time.Second)
			}
			if !bo.Wait(ctx) {
				return
			}
		}
	}
}

// recordLocked encodes the entries, grouped by revision; nil when there
// are none.
func (h *HeldRevisions) recordLocked() []byte {
	if len(h.pops) == 0 {
		return nil
	}
	byRev := map[int64][]string{}
	for pop, e := range h.pops {
		byRev[e.rev] = append(byRev[e.rev], pop)
	}
	rec := &v1.HeldRevisions{Revisions: make([]*v1.HeldRevision, 0, len(byRev))}
	for rev, pops := range byRev {
		rec.Revisions = append(rec.Revisions, &v1.HeldRevision{Revision: rev, Pops: pops})
	}
	slices.SortFunc(rec.Revisions, func(a, b *v1.HeldRevision) int { return cmp.Compare(a.Revision, b.Revision) })
	b, err := proto.Marshal(rec)
	if err != nil {
		// Strings and integers only: it cannot fail.
		panic(fmt.Sprintf("held revisions: %v", err))
	}
	return b
}

// write puts rec under the replica's lease, or deletes the key when rec is
// nil; it returns the channel closed when the lease written under is lost.
func (h *HeldRevisions) write(ctx context.Context, rec []byte) (<-chan struct{}, error) {
	if rec == nil {
		return nil, etcdCall(ctx, ReadTimeout, func(ctx context.Context) error {
			_, err := h.s.cli.Delete(ctx, h.key)
			return err
		})
	}
	lease, lost, err := h.lease.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("held config revisions: %w", err)
	}
	err = etcdCall(ctx, ReadTimeout, func(ctx context.Context) error {
		_, err := h.s.cli.Put(ctx, h.key, string(rec), clientv3.WithLease(lease))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("held config revisions: %w", err)
	}
	return lost, nil
}

// HeldMirror returns a mirror of the replicas' held-revision records: by
// replica, each PoP's revision. An unreadable record is skipped with a
// warning. The maps are shared and must not be modified.
func (s *Store) HeldMirror(sink Sink[string, map[string]int64]) *Mirror[string, map[string]int64] {
	return newMirror(s, codec[string, map[string]int64]{
		name:   "held config revisions",
		prefix: HeldPrefix,
		key:    replicaOfHeldKey,
		decode: func(kv *mvccpb.KeyValue) (string, map[string]int64, error) {
			replica, err := replicaOfHeldKey(string(kv.Key))
			if err != nil {
				return "", nil, err
			}
			rec := &v1.HeldRevisions{}
			if err := proto.Unmarshal(kv.Value, rec); err != nil {
				return "", nil, err
			}
			n := 0
			for _, r := range rec.GetRevisions() {
				n += len(r.GetPops())
			}
			pops := make(map[string]int64, n)
			for _, r := range rec.GetRevisions() {
				for _, pop := range r.GetPops() {
					pops[pop] = max(pops[pop], r.GetRevision())
				}
			}
			return replica, pops, nil
		},
		skip: true,
	}, sink)
}

// replicaOfHeldKey parses a key written by HeldKey.
func replicaOfHeldKey(key string) (string, error) {
	replica, ok := strings.CutPrefix(key, HeldPrefix)
	if !ok {
		return "", fmt.Errorf("key %q is not %s<replica>", key, HeldPrefix)
	}
	return replica, nil
}
