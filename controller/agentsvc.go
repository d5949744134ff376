package controller

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/compile"
	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// agentServer serves the Agent API: each PoP agent holds one stream, gets
// its full compiled config on connect and again on every change of it, and
// reports status, which is kept in etcd under a lease.
type agentServer struct {
	v1.UnimplementedAgentServiceServer
	// mtls is set when callers authenticate with client certificates: an
	// agent may then connect only as the PoP its certificate names.
	mtls bool
	// configs compiles the desired state for every stream once a change.
	configs  *popConfigs
	observed *observer
	// st keeps the reports and claims, under lease (this replica's, of
	// TTL statusTTL).
	st        *store.Store
	lease     *store.ReplicaLease
	statusTTL time.Duration
	log       *slog.Logger
	metrics   *metrics
	// stop is closed when the controller shuts down, ending every stream.
	stop <-chan struct{}
	// sendStall bounds how long one send may wait for an agent that does not
	// read (0: defaultSendStall).
	sendStall time.Duration
	// live refuses a second concurrent agent for a PoP on this replica;
	// claims in etcd refuse one through another replica.
	live liveAgents
	// replica names this controller in claims and refusals.
	replica string
	// etcd says whether this replica reaches etcd: streams end when not.
	etcd *etcdHealth
	// silence finds the streams whose agent stopped reporting.
	silence *silenceWatch
	// held records the config revisions this replica's agents
	// acknowledged beyond their stored reports.
	held *store.HeldRevisions
	// fresh confirms the replica's state current; nil sends no
	// confirmations.
	fresh *freshness
}

func (a *agentServer) Connect(stream v1.AgentService_ConnectServer) error {
	ctx := stream.Context()
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	hello := first.GetHello()
	if hello == nil || hello.GetPop() == "" {
		return status.Error(codes.InvalidArgument, "agent stream: the first message must be a hello naming the PoP")
	}
	pop := hello.GetPop()
	if err := a.checkCaller(stream, pop); err != nil {
		return err
	}
	log := a.log.With("pop", pop)
	etcdLost, etcdErr := a.etcd.state()
	if etcdErr != nil {
		return unreachableErr(etcdErr)
	}
	if err := a.catchUp(ctx, log, etcdLost, hello.GetRevision()); err != nil {
		return err
	}
	addr, now := peerAddr(ctx).String(), time.Now()
	// ctx ends when this agent's next stream takes this one's place.
	ctx, replaced := context.WithCancel(ctx)
	defer replaced()
	release, live := a.live.claim(pop, addr, hello.GetInstance(), now, replaced)
	if live != nil {
		return a.refuseSecond(ctx, log, pop, addr, live)
	}
	defer release()
	// The claim in etcd refuses a second agent through another replica.
	releaseClaim, leaseLost, live, err := a.claim(ctx, log, pop, store.AgentClaim{Addr: addr, Since: now, Controller: a.replica, Instance: hello.GetInstance()})
	switch {
	case live != nil:
		return a.refuseSecond(ctx, log, pop, addr, live)
	case err != nil:
		log.Warn("could not record the PoP's live agent in etcd: a second agent through another controller replica is not refused meanwhile", "err", err)
	default:
		defer releaseClaim()
	}
	log.Info("agent connected", "held_revision", hello.GetRevision(), "agent_version", hello.GetAgentVersion())
	a.metrics.agentStreams.Inc()
	defer a.metrics.agentStreams.Dec()

	reports := a.newReportWriter(ctx, pop, log)
	defer func() {
		// A report write waiting for an etcd that does not answer holds
		// the session: cancel it first, or the stream never ends.
		replaced()
		reports.stop()
	}()
	recvErr := make(chan error, 1)
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			if u := m.GetUnchanged(); u != nil {
				if !reports.takeUnchanged(u.GetConfigRevision()) {
					recvErr <- status.Errorf(codes.InvalidArgument, "agent of PoP %q: a status-unchanged message before any status on the stream", pop)
					return
				}
				continue
			}
			st := m.GetStatus()
			if st == nil {
				continue
			}
			if st.GetPop() != pop {
				recvErr <- status.Errorf(codes.PermissionDenied, "agent of PoP %q may not report for PoP %s", pop, resource.Quote(st.GetPop()))
				return
			}
			reports.take(st)
		}
	}()

	cs := &configStream{pop: pop}
	firstConfig := true
	var sent confirmation
	var told silenceTold
	takesFreshness := a.fresh != nil && hello.GetTakesFreshness()
	dirty := true // the state moved since the last compile
	for {
		// The confirmation is read before the state, as the feed does.
		conf, confirmed := a.fresh.Current()
		silent, silenceChanged := a.etcd.silence()
		f, changed := a.configs.Current()
		obs, obsChanged := a.observed.ConfigInputs()
		var msg *v1.ConnectResponse
		if dirty {
			if msg, err = cs.next(f, obs); errors.Is(err, compile.ErrUnknownPop) {
				return status.Errorf(codes.NotFound, "agent stream: %v", err)
			}
			if err != nil {
				return status.Errorf(codes.Internal, "agent stream: %v", err)
			}
			dirty = false
		}
		if msg != nil {
			// The first config says the agent may send unchanged reports
			// as such, and those naming another config revision.
			msg.AcceptsUnchanged, msg.AcceptsRevisionOnly = firstConfig, firstConfig
		}
		hasConfig := msg != nil
		// The first config says the replica confirms; then each new
		// confirmation is sent once.
		var tell *v1.FeedFreshness
		switch {
		case !takesFreshness:
		case (hasConfig && firstConfig) || (!firstConfig && conf.at.After(sent.at)):
			tell = a.fresh.proto(conf)
		case !firstConfig:
			tell = told.next(a.fresh, silent, conf)
		}
		if tell != nil {
			if msg == nil {
				msg = &v1.ConnectResponse{}
			}
			msg.Freshness = tell
			told.sent(tell, firstConfig)
			sent = conf
		}
		if msg != nil {
			firstConfig = false
			err := sendWithin(a.sendStall, func() error { return stream.Send(msg) })
			if errors.Is(err, errFellBehind) {
				a.metrics.streamsDropped.WithLabelValues("agent").Inc()
				log.Warn("agent fell behind: ending its stream; it reconnects and gets the current config", "revision", f.Revision(), "peer", peerAddr(ctx))
				return status.Errorf(codes.ResourceExhausted, "agent stream fell behind: the config of revision %d was not taken in time; reconnect to get the current one", f.Revision())
			}
			if err != nil {
				return err
			}
			if hasConfig {
				log.Debug("sent config", "revision", f.Revision())
			}
		}
		if takesFreshness && !firstConfig && told.next(a.fresh, silent, conf) != nil {
			continue // the client is yet to hear whether etcd answers
		}
		select {
		case <-ctx.Done():
			if stream.Context().Err() == nil {
				log.Info("agent stream replaced by a new stream of the same agent instance", "peer", addr)
				return status.Errorf(codes.Aborted, "agent stream of PoP %q replaced: the same agent (instance %q) connected on a new stream", pop, hello.GetInstance())
			}
			return nil
		case <-a.stop:
			return status.Error(codes.Unavailable, "controller shutting down")
		case <-etcdLost:
			log.Warn("ending agent stream: this replica cannot reach etcd")
			return a.etcd.refusal()
		case <-leaseLost:
			return status.Error(codes.Unavailable, "this controller replica lost its etcd lease, and with it the PoP's claim and report: reconnect")
		case err := <-recvErr:
			if errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
				log.Info("agent disconnected")
				return nil
			}
			return err
		case <-changed:
			dirty = true
		case <-obsChanged:
			dirty = true
		case <-confirmed:
		case <-silenceChanged:
		}
	}
}

// catchUp waits until this replica's state is at least as new as the
// revision held by the agent (from another replica), as the GSLB feed
// does: an agent sent an older config would apply it, undoing the
// changes since (a drain, say), and persist it. A replica that cannot
// catch up (cut off from etcd, its watch stalled) ends the stream with
// Unavailable, and the agent keeps its config and tries the next one.
func (a *agentServer) catchUp(ctx context.Context, log *slog.Logger, etcdLost <-chan struct{}, held int64) error {
	catchCtx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-a.stop:
		case <-etcdLost:
		case <-catchCtx.Done():
		}
		cancel()
	}()
	err := a.configs.cache.CatchUp(catchCtx, held)
	cancel()
	if err == nil {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-a.stop:
		return status.Error(codes.Unavailable, "controller shutting down")
	case <-etcdLost:
		return a.etcd.refusal()
	default:
	}
	log.Warn("agent holds a newer config than this replica can send: ending its stream", "held_revision", held, "err", err)
	return status.Errorf(codes.Unavailable, "agent stream: the agent holds revision %d, and %v: it keeps that config; connect to another replica", held, err)
}

// claimWaits bounds how many times one stream waits for a claim through
// another replica to go stale before it is refused.
const claimWaits = 3

// claim claims pop in etcd for c. A claim held through another replica is
// not refused at once: that replica may have died, leaving the claim of
// the very agent now moving here to expire with its lease. The stream
// waits (reading only) until the claim goes, then takes it and is served;
// it is refused as a second agent when the holder's replica is seen alive
// (it keeps its lease alive) or the claim outlives its lease's TTL.
func (a *agentServer) claim(ctx context.Context, log *slog.Logger, pop string, c store.AgentClaim) (release func(), lost <-chan struct{}, live *store.AgentClaim, err error) {
	for i := 0; ; i++ {
		release, lost, live, err = a.st.ClaimAgent(ctx, pop, c, a.lease)
		if live == nil || live.Controller == a.replica || i == claimWaits {
			return release, lost, live, err
		}
		log.Info("the PoP is claimed through another replica: waiting for that claim to go, or its replica to show it lives",
			"peer", c.Addr, "live_agent", live.Addr, "live_controller", live.Controller)
		a.metrics.agentClaimWaits.Inc()
		stale, werr := a.st.AwaitClaimStale(ctx, pop, live)
		if werr != nil || !stale {
			return nil, nil, live, nil
		}
	}
}

// refuseSecond refuses the agent from addr for pop, which has the live
// agent live: it logs and records the refusal for `anyctl status`, at most
// every refusalLogEvery per PoP, and returns the agent's error.
func (a *agentServer) refuseSecond(ctx context.Context, log *slog.Logger, pop, addr string, live *store.AgentClaim) error {
	if live.Controller == "" {
		live.Controller = a.replica
	}
	err := secondAgentError(pop, live)
	logIt, suppressed := a.live.noteRefusal(pop, time.Now())
	if !logIt {
		return err
	}
	log.Warn("second agent for a PoP refused: it already has a live agent", "peer", addr, "live_agent", live.Addr,
		"live_since", live.Since, "live_controller", live.Controller, "refusals_not_logged", suppressed)
	r := store.AgentRefusal{Addr: addr, At: time.Now(), Live: *live, Controller: a.replica}
	if rerr := a.st.RecordAgentRefusal(ctx, pop, r, refusalRecordTTL); rerr != nil {
		log.Warn("could not record the refusal for anyctl status", "err", rerr)
	}
	return err
}

// checkCaller refuses, when callers authenticate, a hello naming a PoP
// other than the one the client certificate's CommonName names.
func (a *agentServer) checkCaller(stream v1.AgentService_ConnectServer, pop string) error {
	if !a.mtls {
		return nil
	}
	id, ok := authn.FromContext(stream.Context())
	if !ok {
		return status.Error(codes.Unauthenticated, "agent stream: no verified client certificate")
	}
	if id.Name != pop {
		a.log.Warn("agent refused: its hello names another PoP than its certificate", "hello_pop", pop, "certificate", id.Name, "role", string(id.Role))
		return status.Errorf(codes.PermissionDenied, "agent stream: the hello names PoP %s but the client certificate is for %q (CommonName, role %s); an agent may connect only as the PoP its certificate names", resource.Quote(pop), id.Name, id.Role)
	}
	return nil
}
