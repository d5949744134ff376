package controller

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/anyctl/anyctl/compile"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// gslbSnapshots compiles the GSLB snapshot once per change of the desired
// state or of the observed state, for every feed stream. Each stream sends
// the one compiled, encoded message: at 5,000 records and 50 DNS servers,
// each compiling, comparing and encoding its own copy cost 2 s of CPU and
// 375 MiB of allocations per origin health change.
type gslbSnapshots struct {
	cache    *stateCache
	observed *observer

	mu  sync.Mutex // guards cur
	cur *sharedSnapshot
}

// sharedSnapshot is one compiled snapshot, shared by the streams and never
// modified.
type sharedSnapshot struct {
	// snap is the snapshot, compiled_at and digest set.
	snap *v1.GslbSnapshot
	// msg is the response carrying snap, encoded once (encodedResponse).
	msg *v1.SubscribeResponse
	// content counts changes of what DNS servers answer from: a snapshot
	// whose revision alone moved keeps its predecessor's, and a stream
	// that sent that one sends nothing.
	content uint64
	// state is the desired state it was compiled from.
	state *resource.State
	// stateChanged and observedChanged are closed when the desired state
	// or the observed state it was compiled from is replaced.
	stateChanged, observedChanged <-chan struct{}
}

// stale reports whether either input of the snapshot has changed since.
func (s *sharedSnapshot) stale() bool {
	select {
	case <-s.stateChanged:
		return true
	case <-s.observedChanged:
		return true
	default:
		return false
	}
}

// Current returns the snapshot of the current desired and observed state,
// compiling it when either has changed since the last one. Streams asking
// meanwhile wait for that compile rather than each doing it.
func (g *gslbSnapshots) Current() (*sharedSnapshot, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	prev := g.cur
	if prev != nil && !prev.stale() {
		return prev, nil
	}
	s, stateChanged := g.cache.Current()
	obs, observedChanged := g.observed.Current()
	var snap *v1.GslbSnapshot
	sameState := prev != nil && prev.state == s
	if sameState {
		// Only the observed state changed: the zones and records, which
		// it does not shape, are those compiled before (thousands of
		// records, compiled and compared again at every health change).
		snap = &v1.GslbSnapshot{Revision: s.Revision, Zones: prev.snap.Zones, Records: prev.snap.Records}
		snap.Origins, snap.Pops = compile.GslbObserved(s, obs)
	} else {
		snap = compile.GslbSnapshot(s, obs)
	}
	for _, o := range snap.GetOrigins() {
		// DNS servers read a reason only for an unhealthy candidate: why
		// an origin is up (one more PoP reporting, one PoP alone seeing
		// it down) is not sent to every server again, nor which PoPs see
		// a down origin down, which moves with every report at thousands
		// of PoPs. They get the rule that decided the verdict.
		if o.GetHealthy() {
			o.HealthReason = ""
		} else {
			o.HealthReason = obs.OriginHealth[o.GetName()].Verdict
		}
	}
	next := &sharedSnapshot{state: s, stateChanged: stateChanged, observedChanged: observedChanged}
	same := func() bool {
		if sameState {
			return sameObserved(snap, prev.snap)
		}
		return sameSnapshot(snap, prev.snap)
	}
	switch {
	case prev != nil && snap.GetRevision() == prev.snap.GetRevision() && same():
		next.snap, next.msg, next.content = prev.snap, prev.msg, prev.content
	default:
		next.content = 1
		if prev != nil {
			next.content = prev.content + 1
			if same() {
				next.content = prev.content
			}
		}
		snap.CompiledAt = timestamppb.New(time.Now())
		msg, err := encodedResponse(snap)
		if err != nil {
			return nil, err
		}
		next.snap, next.msg = snap, msg
	}
	g.cur = next
	return next, nil
}

// encodedResponse is the SubscribeResponse carrying snap, encoded now and
// held as the message's unknown fields, which encoding writes out as they
// are: a DNS server decodes its snapshot field, and the snapshot is not
// encoded again for every stream. It sets snap's digest.
//
// The snapshot's fields other than compiled_at and digest are encoded
// deterministically (map order fixed), the digest is the SHA-256 of those
// very bytes, and compiled_at and digest go before them (fields may come
// in any order): the snapshot is encoded once, and hashed once, for its
// digest and for every stream.
func encodedResponse(snap *v1.GslbSnapshot) (*v1.SubscribeResponse, error) {
	at := snap.CompiledAt
	snap.CompiledAt, snap.Digest = nil, nil
	o := proto.MarshalOptions{Deterministic: true}
	n := o.Size(snap)
	// The digest is the head's last field: its last bytes are the sum's.
	head, err := proto.Marshal(&v1.GslbSnapshot{CompiledAt: at, Digest: make([]byte, sha256.Size)})
	if err != nil {
		snap.CompiledAt = at
		return nil, fmt.Errorf("encode the gslb snapshot of revision %d: %w", snap.GetRevision(), err)
	}
	b := make([]byte, 0, 1+protowire.SizeVarint(uint64(len(head)+n))+len(head)+n)
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(len(head)+n))
	b = append(b, head...)
	start := len(b)
	o.UseCachedSize = true
	b, err = o.MarshalAppend(b, snap)
	snap.CompiledAt = at
	if err == nil && len(b)-start != n {
		err = fmt.Errorf("%d bytes encoded, %d expected", len(b)-start, n)
	}
	if err != nil {
		return nil, fmt.Errorf("encode the gslb snapshot of revision %d: %w", snap.GetRevision(), err)
	}
	sum := sha256.Sum256(b[start:])
	copy(b[start-sha256.Size:start], sum[:])
	snap.Digest = sum[:]
	m := &v1.SubscribeResponse{}
	m.ProtoReflect().SetUnknown(b)
	return m, nil
}

// holds reports whether a DNS server that subscribed with req holds snap:
// the same revision and a digest, the same.
func holds(req *v1.SubscribeRequest, snap *v1.GslbSnapshot) bool {
	return len(req.GetDigest()) > 0 && req.GetRevision() == snap.GetRevision() && bytes.Equal(req.GetDigest(), snap.GetDigest())
}

// sameObserved compares the origins and PoPs of two snapshots of one
// desired state, whose zones and records are the same.
func sameObserved(a, b *v1.GslbSnapshot) bool {
	return slices.EqualFunc(a.GetOrigins(), b.GetOrigins(), func(x, y *v1.SnapshotOrigin) bool { return proto.Equal(x, y) }) &&
		slices.EqualFunc(a.GetPops(), b.GetPops(), func(x, y *v1.SnapshotPop) bool { return proto.Equal(x, y) })
}

// sameSnapshot compares a freshly compiled snapshot with a published one,
// ignoring revision, compile time and digest. It sets fresh's to
// published's while it compares, so fresh must not be shared yet.
func sameSnapshot(fresh, published *v1.GslbSnapshot) bool {
	rev, at, digest := fresh.Revision, fresh.CompiledAt, fresh.Digest
	fresh.Revision, fresh.CompiledAt, fresh.Digest = published.Revision, published.CompiledAt, published.Digest
	same := proto.Equal(fresh, published)
	fresh.Revision, fresh.CompiledAt, fresh.Digest = rev, at, digest
	return same
}
