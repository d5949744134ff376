package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

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
func (s *Store) ClaimAgent(ctx context.Context, pop string, c AgentClaim, lease *ReplicaLease) (release func(), lost <-chan struct{}, holder *AgentClaim, err error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, nil, nil, err
	}
	id, lost, err := lease.Acquire(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("PoP %q agent claim: %w", pop, err)
	}
	key := AgentClaimKey(pop)
	var resp *clientv3.TxnResponse
	err = etcdCall(ctx, ReadTimeout, func(ctx context.Context) (err error) {
		resp, err = s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, string(b), clientv3.WithLease(id))).
			Else(clientv3.OpGet(key)).
			Commit()
		return err
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("PoP %q agent claim: %w", pop, err)
	}
	if !resp.Succeeded {
		h := &AgentClaim{}
		if kvs := resp.Responses[0].GetResponseRange().GetKvs(); len(kvs) > 0 {
			if err := json.Unmarshal(kvs[0].Value, h); err != nil {
				return nil, nil, nil, fmt.Errorf("PoP %q agent claim %q: %w", pop, kvs[0].Value, err)
			}
		}
		return nil, nil, h, nil
	}
	rev := resp.Header.Revision
	return func() { s.deleteIfCreatedAt(key, rev) }, lost, nil, nil
}

// deleteIfCreatedAt deletes key if it is still the one created at rev,
// waiting at most stopTimeout.
func (s *Store) deleteIfCreatedAt(key string, rev int64) {
	ctx, cancel := context.WithTimeout(s.cli.Ctx(), stopTimeout)
	defer cancel()
	_, _ = s.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", rev)).Then(clientv3.OpDelete(key)).Commit()
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
