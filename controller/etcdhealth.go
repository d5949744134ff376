package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// etcdProbeInterval is how often a replica checks that it reaches a
// majority of etcd. etcdPromptRead is how long a read of an etcd that
// keeps up may take: a check that has waited longer is late, but is not
// given up (etcdHealth).
const (
	etcdProbeInterval = time.Second
	etcdPromptRead    = 2 * time.Second
)

// DefaultEtcdLossGrace is how long a replica may go without an answer
// from a majority of etcd before its status says it is degraded: the
// election lease's TTL, after which it has stopped leading too.
const DefaultEtcdLossGrace = 5 * time.Second

// etcdHealth tracks whether this replica reaches a majority of etcd. A
// replica that does not cannot see the desired state change, so the agent
// and DNS streams it serves would go stale: it ends them, and refuses new
// ones, so that their clients move to a replica that does. The clients
// keep announcing and answering meanwhile.
//
// A slow etcd is not a lost one: an overloaded cluster can take longer
// than etcdPromptRead to answer a read while it still keeps leases
// alive, and ending every stream then would send a whole fleet
// reconnecting into that same cluster. So a probe starts every
// etcdProbeInterval and waits for its answer as long as the streams are
// kept without one (endAfter), however many are under way, and etcd
// counts as answering while probes or the replica lease's keepalive are
// answered, however late; without either for grace the replica says it
// is degraded (status); its streams end only without either for
// endAfter (the replica lease's TTL, at least grace), the span over
// which the lease, and with it the agents' claims and reports, is lost
// anyway.
type etcdHealth struct {
	st    *store.Store
	grace time.Duration
	// endAfter is how long without an answer ends the streams.
	endAfter time.Duration
	// leaseAck returns when the replica lease's keepalive was last
	// answered (zero if never); nil counts probes only.
	leaseAck func() time.Time
	log      *slog.Logger
	// onChange is called, under mu, with whether etcd is reached.
	onChange func(reached bool)

	// started is when the replica began to track etcd.
	started time.Time
	// roundTrips observes each answered probe's round trip; set before
	// run, if at all.
	roundTrips prometheus.Observer

	mu sync.Mutex // guards the fields below
	// lostCh is closed when etcd is declared lost; a new one replaces it
	// when etcd is back.
	lostCh chan struct{}
	// err says why etcd is lost; nil while it is reached.
	err error
	// degraded says why etcd has not answered for grace; nil while it
	// does.
	degraded error
	// silent is set while etcd has not answered for etcdPromptRead;
	// silentCh is closed when silent changes, and replaced.
	silent   bool
	silentCh chan struct{}
	// answered is when a probe was last answered (zero before the
	// first); roundTrip is how long that probe waited.
	answered  time.Time
	roundTrip time.Duration
}

func newEtcdHealth(st *store.Store, grace, endAfter time.Duration, leaseAck func() time.Time, log *slog.Logger, onChange func(reached bool)) *etcdHealth {
	return &etcdHealth{st: st, grace: grace, endAfter: max(grace, endAfter), leaseAck: leaseAck, log: log, onChange: onChange, lostCh: make(chan struct{}), silentCh: make(chan struct{}), started: time.Now()}
}

// silence reports whether etcd has gone etcdPromptRead without answering
// this replica, and returns a channel closed when that changes. A slow
// etcd answers, late, about every etcdProbeInterval; a replica cut off
// from it gets no answer at all, and its streams tell their clients at
// once that it cannot confirm (silenceTold), long before it is lost, as
// writes are refused at once (checkWritable). A nil etcdHealth is never
// silent.
func (h *etcdHealth) silence() (bool, <-chan struct{}) {
	if h == nil {
		return false, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.silent, h.silentCh
}

// setSilent records whether etcd has gone etcdPromptRead without an
// answer.
func (h *etcdHealth) setSilent(silent bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if silent == h.silent {
		return
	}
	h.silent = silent
	close(h.silentCh)
	h.silentCh = make(chan struct{})
	if silent {
		h.log.Warn("etcd has not answered for a while: telling agents and DNS servers that this replica cannot confirm its state, so that they do not wait longer for it, and refusing writes", "for", etcdPromptRead)
	} else {
		h.log.Info("etcd answers this replica again: its agents and DNS servers are told so with its last confirmation")
	}
}

// refusal is the error a stream ends with, or is refused with, while this
// replica cannot reach etcd; nil while it can.
func (h *etcdHealth) refusal() error {
	if _, err := h.state(); err != nil {
		return unreachableErr(err)
	}
	return nil
}

func unreachableErr(err error) error {
	return status.Errorf(codes.Unavailable, "this controller replica cannot reach etcd (%v); its state may be stale: connect to another replica", err)
}

// state returns a channel closed when etcd is declared lost, and why it is
// lost now (nil while it is reached). A nil etcdHealth never loses etcd.
func (h *etcdHealth) state() (<-chan struct{}, error) {
	if h == nil {
		return nil, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lostCh, h.err
}

// degradedErr says why etcd has not answered for grace; nil while it
// does.
func (h *etcdHealth) degradedErr() error {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.degraded
}

// run probes etcd until ctx ends: degraded after grace without an answer
// (a successful probe, however late, or a lease keepalive), lost after
// endAfter, reached again on the first answer.
func (h *etcdHealth) run(ctx context.Context) {
	lastOK := time.Now()
	t := time.NewTicker(etcdProbeInterval)
	defer t.Stop()
	results := make(chan probeResult)
	probe := func() {
		go func() {
			start := time.Now()
			err := h.st.Ping(ctx, h.endAfter)
			select {
			case results <- probeResult{err: err, roundTrip: time.Since(start)}:
			case <-ctx.Done():
			}
		}()
	}
	probe()
	// quiet fires when etcd has gone etcdPromptRead without answering.
	quiet := time.NewTimer(etcdPromptRead)
	defer quiet.Stop()
	var err error // the last probe's outcome
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			probe()
		case <-quiet.C:
		case r := <-results:
			if err = r.err; err == nil {
				lastOK = time.Now()
				h.answeredProbe(lastOK, r.roundTrip)
			}
		}
		if h.leaseAck != nil {
			if at := h.leaseAck(); at.After(lastOK) {
				lastOK = at
			}
		}
		since := time.Since(lastOK)
		h.setSilent(since >= etcdPromptRead)
		if since < etcdPromptRead {
			quiet.Reset(etcdPromptRead - since)
		}
		why := err
		if why == nil && since >= etcdPromptRead {
			why = fmt.Errorf("no answer for %s", since.Round(time.Millisecond))
		}
		h.update(why, since)
	}
}

// update records a probe's outcome; since is the time since etcd last
// answered.
func (h *etcdHealth) update(err error, since time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil && !errors.Is(err, store.ErrQuorumLost) {
		err = fmt.Errorf("%w: %v", store.ErrQuorumLost, err)
	}
	switch {
	case since < h.grace:
		if h.degraded != nil && h.err == nil {
			h.log.Info("etcd answering again", "probe_err", err)
		}
		h.degraded = nil
		if h.err != nil {
			h.log.Info("etcd reached again: serving agent and DNS streams", "lost_for", since)
			h.err = nil
			h.lostCh = make(chan struct{})
			h.onChange(true)
		}
	case since >= h.endAfter && h.err == nil:
		h.degraded = err
		h.err = err
		close(h.lostCh)
		h.onChange(false)
		h.log.Error("etcd unreachable: ending agent and DNS streams so that they move to a replica that reaches it", "for", since.Round(time.Millisecond), "err", err)
	case h.degraded == nil:
		h.degraded = err
		h.log.Warn("etcd not answering: status says degraded; agent and DNS streams are kept unless it stays so", "for", since.Round(time.Millisecond), "streams_end_after", h.endAfter, "err", err)
	}
}

// replicaState is what Status says about the replica that answers.
type replicaState struct {
	etcd *etcdHealth
	// fresh says whether the replica confirms its state current.
	fresh *freshness
	// leading is true while this replica leads the fleet jobs.
	leading atomic.Bool
}

// proto renders the state for StatusResponse.controller.
func (r *replicaState) proto() *v1.ControllerState {
	if r == nil {
		return nil
	}
	a := r.etcd.answers(time.Now())
	st := &v1.ControllerState{Leader: r.leading.Load(), EtcdAnswerAge: durationpb.New(a.age), EtcdSilent: a.silent}
	if a.roundTrip > 0 {
		st.EtcdRoundTrip = durationpb.New(a.roundTrip)
	}
	if err := r.etcd.degradedErr(); err != nil {
		st.Degraded = fmt.Sprintf("cannot reach etcd (%v): serving from a state that may be stale, refusing writes, agent and DNS streams sent to other replicas", err)
	} else if d, why := r.fresh.unconfirmed(time.Now()); d > 0 {
		cause := "etcd slower than a confirmation may take, or a watch that stopped following it"
		if why != nil {
			cause = why.Error()
		}
		st.Degraded = fmt.Sprintf("its state has not been confirmed current against etcd for %s (%s): its DNS servers and agents leave it for other replicas; see its log", d.Round(time.Second), cause)
	}
	return st
}
