package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// TestEtcdCall checks the retry and quorum policy on the errors etcd's
// server sends (as they arrive over gRPC): "leader changed" is made again,
// no leader and timeouts inside the cluster say quorum is lost at once, an
// attempt that runs out its timeout says so too, and anything else comes
// back as it is.
func TestEtcdCall(t *testing.T) {
	other := errors.New("etcdserver: mvcc: required revision has been compacted")
	for _, c := range []struct {
		desc       string
		errs       []error // what each attempt returns; the last repeats
		block      bool    // the attempt waits for its context
		wantCalls  int
		wantQuorum bool
		wantErr    error
	}{
		{desc: "leader changed, then answered", errs: []error{rpctypes.ErrGRPCLeaderChanged, rpctypes.ErrGRPCLeaderChanged, nil}, wantCalls: 3},
		{desc: "leader keeps changing", errs: []error{rpctypes.ErrGRPCLeaderChanged}, wantCalls: leaderChangedAttempts, wantQuorum: true},
		{desc: "no leader", errs: []error{rpctypes.ErrGRPCNoLeader}, wantCalls: 1, wantQuorum: true},
		{desc: "timed out after leader failure", errs: []error{rpctypes.ErrGRPCTimeoutDueToLeaderFail}, wantCalls: 1, wantQuorum: true},
		{desc: "timed out", errs: []error{rpctypes.ErrGRPCTimeout}, wantCalls: 1, wantQuorum: true},
		{desc: "no answer within the timeout", block: true, wantCalls: 1, wantQuorum: true},
		{desc: "other errors as they are", errs: []error{other}, wantCalls: 1, wantErr: other},
	} {
		t.Run(c.desc, func(t *testing.T) {
			calls := 0
			err := etcdCall(context.Background(), 50*time.Millisecond, func(ctx context.Context) error {
				calls++
				if c.block {
					<-ctx.Done()
					return ctx.Err()
				}
				return c.errs[min(calls, len(c.errs))-1]
			})
			if calls != c.wantCalls {
				t.Errorf("%d calls, want %d", calls, c.wantCalls)
			}
			if got := errors.Is(err, ErrQuorumLost); got != c.wantQuorum {
				t.Errorf("error %v: quorum lost %v, want %v", err, got, c.wantQuorum)
			}
			if c.wantErr != nil && err != c.wantErr {
				t.Errorf("error %v, want %v", err, c.wantErr)
			}
			if !c.wantQuorum && c.wantErr == nil && err != nil {
				t.Errorf("error %v, want none", err)
			}
		})
	}
}
