package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// AgentClaim is a PoP's live agent, as one controller replica recorded it
// under AgentClaimPrefix: every replica refuses a second agent for the PoP
// while the claim stands.
type AgentClaim struct {
	// Addr is where the agent connects from.
	Addr string `json:"addr"`
	// Since is when it connected.
	Since time.Time `json:"since"`
	// Controller is the replica it is connected to.
	Controller string `json:"controller"`
	// Instance names the agent's run (its hello's), if it says.
	Instance string `json:"instance,omitempty"`
	// Lease and ModRevision are the stored claim's, when read.
	Lease       int64 `json:"-"`
	ModRevision int64 `json:"-"`
}

// AgentRefusal is a second agent for a PoP refused while another was live.
type AgentRefusal struct {
	// Addr is where the refused agent connected from; At when it was
	// last refused.
	Addr string    `json:"addr"`
	At   time.Time `json:"at"`
	// Live is the PoP's live agent at the time.
	Live AgentClaim `json:"live"`
	// Controller is the replica that refused it.
	Controller string `json:"controller"`
}

// ClaimAgent records c as pop's live agent unless another claim stands,
// in which case it returns that claim (and a nil release). The claim is
// under the replica's lease, so a replica that vanishes leaves claims that
// expire within its TTL; lost is closed when that lease is lost, taking
// the claim with it. release deletes the claim (if it is still this one),
// waiting at most stopTimeout for etcd.
//
// A standing claim costs one read and no write: it is read before
// anything is written, so refused and waiting attempts write nothing. A
// standing claim of the same agent instance as c (c.Instance, not empty)
// is that agent's earlier stream, which it lost (an agent holds one
// stream at a time), say with a replica that died: c takes it over.
func (s *Store) ClaimAgent(ctx context.Context, pop string, c AgentClaim, lease *ReplicaLease) (release func(), lost <-chan struct{}, holder *AgentClaim, err error) {
	// A claim that went between the read and the write (its stream
	// ended) is read again.
	for range 3 {
		release, lost, holder, err = s.claimAgent(ctx, pop, c, lease)
		if release != nil || err != nil || holder.ModRevision != 0 {
			return release, lost, holder, err
		}
	}
	return release, lost, holder, err
}

func (s *Store) claimAgent(ctx context.Context, pop string, c AgentClaim, lease *ReplicaLease) (release func(), lost <-chan struct{}, holder *AgentClaim, err error) {
	key := AgentClaimKey(pop)
	var cur *clientv3.GetResponse
	err = etcdCall(ctx, ReadTimeout, func(ctx context.Context) (err error) {
		cur, err = s.cli.Get(ctx, key)
		return err
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("PoP %q agent claim: %w", pop, err)
	}
	cond := clientv3.Compare(clientv3.CreateRevision(key), "=", 0)
	if len(cur.Kvs) > 0 {
		h, err := readClaim(pop, cur.Kvs[0])
		if err != nil {
			return nil, nil, nil, err
		}
		if c.Instance == "" || h.Instance != c.Instance {
			return nil, nil, h, nil
		}
		cond = clientv3.Compare(clientv3.ModRevision(key), "=", h.ModRevision)
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, nil, nil, err
	}
	id, lost, err := lease.Acquire(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("PoP %q agent claim: %w", pop, err)
	}
	var resp *clientv3.TxnResponse
	err = etcdCall(ctx, ReadTimeout, func(ctx context.Context) (err error) {
		resp, err = s.cli.Txn(ctx).If(cond).
			Then(clientv3.OpPut(key, string(b), clientv3.WithLease(id))).
			Else(clientv3.OpGet(key)).
			Commit()
		return err
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("PoP %q agent claim: %w", pop, err)
	}
	if !resp.Succeeded {
		// Another stream claimed the PoP between the read and the write.
		h := &AgentClaim{}
		if kvs := resp.Responses[0].GetResponseRange().GetKvs(); len(kvs) > 0 {
			if h, err = readClaim(pop, kvs[0]); err != nil {
				return nil, nil, nil, err
			}
		}
		return nil, nil, h, nil
	}
	rev := resp.Header.Revision
	return func() { s.deleteIfModifiedAt(key, rev) }, lost, nil, nil
}

func readClaim(pop string, kv *mvccpb.KeyValue) (*AgentClaim, error) {
	h := &AgentClaim{}
	if err := json.Unmarshal(kv.Value, h); err != nil {
		return nil, fmt.Errorf("PoP %q agent claim %q: %w", pop, kv.Value, err)
	}
	h.Lease, h.ModRevision = kv.Lease, kv.ModRevision
	return h, nil
}

// deleteIfModifiedAt deletes key if it is still the one written at rev,
// waiting at most stopTimeout.
func (s *Store) deleteIfModifiedAt(key string, rev int64) {
	ctx, cancel := context.WithTimeout(s.cli.Ctx(), stopTimeout)
	defer cancel()
	_, _ = s.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).Then(clientv3.OpDelete(key)).Commit()
}

// claimStaleMargin is how long past its holder lease's granted TTL a
// claim is waited for: the lease has expired by then unless it was kept
// alive.
const claimStaleMargin = 2 * time.Second

// claimProbeEvery is how often the holder's lease is read while a claim
// is waited for.
const claimProbeEvery = time.Second

// AwaitClaimStale waits, reading only, for the claim h of pop (held
// through another replica) to go: it returns true when the claim was
// deleted, replaced or its lease expired (the caller claims again), and
// false as soon as the holder's lease is seen kept alive (its replica is
// alive and holds the agent: a second agent is refused), or when the
// lease outlived its granted TTL plus claimStaleMargin without either.
// A replica that died leaves claims whose lease nobody keeps alive: they
// go within its TTL, and an agent that moved meanwhile is served then
// instead of refused and backing off.
func (s *Store) AwaitClaimStale(ctx context.Context, pop string, h *AgentClaim) (bool, error) {
	ttl := func() (*clientv3.LeaseTimeToLiveResponse, error) {
		var r *clientv3.LeaseTimeToLiveResponse
		err := etcdCall(ctx, ReadTimeout, func(ctx context.Context) (err error) {
			r, err = s.cli.TimeToLive(ctx, clientv3.LeaseID(h.Lease))
			return err
		})
		return r, err
	}
	if h.Lease == 0 {
		return false, nil
	}
	first, err := ttl()
	if err != nil {
		return false, fmt.Errorf("PoP %q agent claim's lease: %w", pop, err)
	}
	if first.TTL < 0 {
		return true, nil
	}
	wctx, cancel := context.WithTimeout(ctx, time.Duration(first.GrantedTTL)*time.Second+claimStaleMargin)
	defer cancel()
	wch := s.cli.Watch(clientv3.WithRequireLeader(wctx), AgentClaimKey(pop), clientv3.WithRev(h.ModRevision+1))
	t := time.NewTicker(claimProbeEvery)
	defer t.Stop()
	last := first.TTL
	for {
		select {
		case wr, ok := <-wch:
			if !ok {
				return false, ctx.Err()
			}
			if wr.Err() != nil || len(wr.Events) > 0 {
				// Changed, or the watch could not say (compacted): the
				// caller reads the claim again.
				return true, nil
			}
		case <-wctx.Done():
			return false, ctx.Err()
		case <-t.C:
			r, err := ttl()
			if err != nil {
				continue // slow or unreachable etcd: keep waiting within the bound
			}
			if r.TTL < 0 {
				return true, nil // revoked: the claim went with it
			}
			// At 0 the lease has expired and etcd is revoking it: the
			// watch sees the claim go.
			if r.TTL > last {
				return false, nil // kept alive: the holder's replica lives
			}
			last = r.TTL
		}
	}
}

// RecordAgentRefusal keeps r as pop's last refused agent for ttl.
func (s *Store) RecordAgentRefusal(ctx context.Context, pop string, r AgentRefusal, ttl time.Duration) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return etcdCall(ctx, ReadTimeout, func(ctx context.Context) error {
		g, err := s.cli.Grant(ctx, int64(max(ttl/time.Second, 1)))
		if err != nil {
			return err
		}
		_, err = s.cli.Put(ctx, AgentRefusedKey(pop), string(b), clientv3.WithLease(g.ID))
		return err
	})
}

// AgentRefusals returns each PoP's last refused agent still on record.
// timeout bounds the read.
func (s *Store) AgentRefusals(ctx context.Context, timeout time.Duration) (map[string]AgentRefusal, error) {
	var resp *clientv3.GetResponse
	err := etcdCall(ctx, timeout, func(ctx context.Context) (err error) {
		resp, err = s.cli.Get(ctx, AgentRefusedPrefix, clientv3.WithPrefix())
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]AgentRefusal, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var r AgentRefusal
		if json.Unmarshal(kv.Value, &r) != nil {
			s.log.Warn("skipping an unreadable agent refusal record", "key", string(kv.Key))
			continue
		}
		out[strings.TrimPrefix(string(kv.Key), AgentRefusedPrefix)] = r
	}
	return out, nil
}
