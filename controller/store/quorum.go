package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/anyctl/anyctl/backoff"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// ReadTimeout bounds one read of etcd: a cluster that has lost quorum (or
// cannot be reached) does not answer, and a caller is better told so in
// seconds than left waiting for its own deadline.
const ReadTimeout = 5 * time.Second

// leaderChangedAttempts bounds how often an etcd call that failed with
// "leader changed" is made again. etcd returns that error for requests it
// did not carry out, so they are safe to repeat.
const leaderChangedAttempts = 4

// ErrQuorumLost is wrapped by errors from an etcd that has no leader or
// does not answer: nothing can be read or written until a majority of its
// members is back.
var ErrQuorumLost = errors.New("etcd has lost quorum")

// leaderChanged reports whether etcd refused err's request because its
// leader changed under it: the request was not carried out.
func leaderChanged(err error) bool {
	return err != nil && rpctypes.ErrorDesc(err) == rpctypes.ErrLeaderChanged.Error()
}

// noQuorum reports whether err is etcd saying it has no leader, or that a
// request timed out inside the cluster (waiting for a leader or a
// majority).
func noQuorum(err error) bool {
	if err == nil {
		return false
	}
	switch rpctypes.ErrorDesc(err) {
	case rpctypes.ErrNoLeader.Error(), rpctypes.ErrTimeoutDueToLeaderFail.Error(),
		rpctypes.ErrTimeout.Error(), rpctypes.ErrTimeoutDueToConnectionLost.Error():
		return true
	}
	return false
}

// etcdCall runs call, made again with backoff while etcd answers "leader
// changed". With timeout > 0 each attempt is bounded by it, and an attempt
// that runs it out while ctx is still live means etcd cannot answer. Errors
// that say etcd has lost quorum wrap ErrQuorumLost.
func etcdCall(ctx context.Context, timeout time.Duration, call func(context.Context) error) error {
	bo := backoff.New(20*time.Millisecond, 500*time.Millisecond)
	for attempt := 1; ; attempt++ {
		actx, cancel := ctx, context.CancelFunc(func() {})
		if timeout > 0 {
			actx, cancel = context.WithTimeout(ctx, timeout)
		}
		err := call(actx)
		timedOut := actx.Err() != nil && ctx.Err() == nil
		cancel()
		switch {
		case err == nil:
			return nil
		case leaderChanged(err) && attempt < leaderChangedAttempts:
			if !bo.Wait(ctx) {
				return err
			}
			continue
		case noQuorum(err), leaderChanged(err):
			return fmt.Errorf("%w (%v); a majority of its members must be up and reachable", ErrQuorumLost, err)
		case timedOut:
			return fmt.Errorf("%w: no answer within %s (%v); a majority of its members must be up and reachable", ErrQuorumLost, timeout, err)
		}
		return err
	}
}
