package controller

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/anyctl/anyctl/compile"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// feedServer streams the compiled GSLB snapshot to DNS servers: the current
// one on subscribe, then a new one whenever its content changes.
type feedServer struct {
	v1.UnimplementedGslbFeedServiceServer
	cache    *stateCache
	observed *observer
	log      *slog.Logger
	metrics  *metrics
	// stop is closed when the controller shuts down, ending every stream.
	stop <-chan struct{}
	// sendStall bounds how long one send may wait for a DNS server that does not
	// read (0: defaultSendStall).
	sendStall time.Duration
	// etcd says whether this replica reaches etcd: streams end when not.
	etcd *etcdHealth
	// dns records the subscribers, for anyctl status.
	dns *dnsServers
	// fresh confirms the replica's state current; nil sends no
	// confirmations.
	fresh *freshness
}

func (f *feedServer) Subscribe(req *v1.SubscribeRequest, stream v1.GslbFeedService_SubscribeServer) error {
	ctx := stream.Context()
	etcdLost, etcdErr := f.etcd.state()
	if etcdErr != nil {
		return unreachableErr(etcdErr)
	}
	f.metrics.feedStreams.Inc()
	defer f.metrics.feedStreams.Dec()
	f.log.Info("dns server subscribed", "server", req.GetServerName(), "held_revision", req.GetRevision())
	if r := req.GetPersistedSnapshotRefused(); r != "" {
		f.log.Warn("dns server refused its persisted snapshot at start", "server", req.GetServerName(), "peer", peerAddr(ctx), "reason", r)
	}
	var sub *dnsSub
	if f.dns != nil {
		sub = f.dns.add(req, peerAddr(ctx).String(), time.Now())
		defer sub.remove()
	}
	// A server that held a newer state (from another replica) must not be
	// sent an older one: it would serve it, persist it and move its zones'
	// serials back.
	catchCtx, cancelCatch := context.WithCancel(ctx)
	go func() {
		select {
		case <-f.stop:
		case <-etcdLost:
		case <-catchCtx.Done():
		}
		cancelCatch()
	}()
	err := f.cache.CatchUp(catchCtx, req.GetRevision())
	cancelCatch()
	if err != nil {
		select {
		case <-ctx.Done():
			return nil
		case <-f.stop:
			return status.Error(codes.Unavailable, "controller shutting down")
		case <-etcdLost:
			return f.etcd.refusal()
		default:
		}
		f.log.Warn("dns server holds a newer snapshot than this replica can send: ending its feed stream", "server", req.GetServerName(), "held_revision", req.GetRevision(), "err", err)
		return status.Errorf(codes.Unavailable, "gslb feed: the DNS server holds revision %d, and %v: it keeps that snapshot; connect to another replica", req.GetRevision(), err)
	}
	var last *v1.GslbSnapshot
	var sent confirmation
	dirty := true // the state moved since the last compile
	for {
		// The confirmation is read before the state: the state compiled
		// is then at least as new as what it confirms.
		conf, confirmed := f.fresh.Current()
		s, changed := f.cache.Current()
		obs, obsChanged := f.observed.Current()
		msg := &v1.SubscribeResponse{}
		if dirty {
			snap := compile.GslbSnapshot(s, obs)
			if last == nil || !sameSnapshot(snap, last) {
				snap.CompiledAt = timestamppb.New(time.Now())
				msg.Snapshot = snap
			}
			dirty = false
		}
		// Every stream's first response says the replica confirms, so
		// that the DNS server holds it to that even before the first
		// confirmation; then each new confirmation is sent once.
		if f.fresh != nil && (last == nil || conf.at.After(sent.at)) {
			msg.Freshness = f.fresh.proto(conf)
			sent = conf
		}
		if msg.Snapshot != nil || msg.Freshness != nil {
			err := sendWithin(f.sendStall, func() error { return stream.Send(msg) })
			if errors.Is(err, errFellBehind) {
				rev := msg.GetSnapshot().GetRevision()
				if rev == 0 {
					rev = last.GetRevision()
				}
				f.metrics.streamsDropped.WithLabelValues("gslb_feed").Inc()
				f.log.Warn("dns server fell behind: ending its feed stream; it resubscribes and gets the current snapshot",
					"server", req.GetServerName(), "revision", rev, "peer", peerAddr(ctx))
				return status.Errorf(codes.ResourceExhausted, "gslb feed fell behind: the message of revision %d was not taken in time; resubscribe to get the current snapshot", rev)
			}
			if err != nil {
				return err
			}
			if msg.Snapshot != nil {
				last = msg.Snapshot
			}
			if msg.GetFreshness().GetConfirmed() && sub != nil {
				sub.sent(conf)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-f.stop:
			return status.Error(codes.Unavailable, "controller shutting down")
		case <-etcdLost:
			f.log.Warn("ending dns server's feed stream: this replica cannot reach etcd", "server", req.GetServerName())
			return f.etcd.refusal()
		case <-changed:
			dirty = true
		case <-obsChanged:
			dirty = true
		case <-confirmed:
		}
	}
}

// sameSnapshot compares snapshots ignoring revision and compile time.
func sameSnapshot(a, b *v1.GslbSnapshot) bool {
	ac, bc := proto.Clone(a).(*v1.GslbSnapshot), proto.Clone(b).(*v1.GslbSnapshot)
	ac.Revision, bc.Revision = 0, 0
	ac.CompiledAt, bc.CompiledAt = nil, nil
	return proto.Equal(ac, bc)
}
