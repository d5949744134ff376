package controller

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// feedServer streams the compiled GSLB snapshot to DNS servers: the current
// one on subscribe (or word that the one the server holds is current),
// then a new one whenever its content changes.
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

	// shareOnce makes shared, the snapshot compiled once per change for
	// every stream.
	shareOnce sync.Once
	shared    *gslbSnapshots
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
	if r := req.GetSnapshotRejected(); r != "" {
		f.log.Warn("dns server rejected the gslb snapshot it was sent; it answers from an older one", "server", req.GetServerName(), "peer", peerAddr(ctx), "held_revision", req.GetRevision(), "reason", r)
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
	var sent *sharedSnapshot
	var sentConf confirmation
	var told silenceTold
	for {
		// The confirmation is read before the state: the state compiled
		// is then at least as new as what it confirms.
		conf, confirmed := f.fresh.Current()
		silent, silenceChanged := f.etcd.silence()
		cur, err := f.snapshots().Current()
		if err != nil {
			return status.Errorf(codes.Internal, "gslb feed: %v", err)
		}
		// The snapshot goes as the bytes encoded once for every stream
		// (encodedResponse), beside this stream's confirmation.
		msg := &v1.SubscribeResponse{}
		switch {
		case sent == nil && holds(req, cur.snap):
			// The server holds this very snapshot (a reconnection, a
			// restart on its persisted one): it is told so, in a few
			// bytes, instead of being sent megabytes it would build
			// again.
			msg.Current = &v1.SnapshotCurrent{Revision: cur.snap.GetRevision(), Digest: cur.snap.GetDigest()}
			f.log.Info("dns server holds the current gslb snapshot: not sent again", "server", req.GetServerName(), "revision", cur.snap.GetRevision())
		case sent == nil || cur.content != sent.content:
			msg.ProtoReflect().SetUnknown(cur.msg.ProtoReflect().GetUnknown())
		}
		// Every stream's first response says the replica confirms, so
		// that the DNS server holds it to that even before the first
		// confirmation; then each new confirmation is sent once.
		if f.fresh != nil && (sent == nil || conf.at.After(sentConf.at)) {
			msg.Freshness = f.fresh.proto(conf)
		} else if f.fresh != nil {
			msg.Freshness = told.next(f.fresh, silent, conf)
		}
		if len(msg.ProtoReflect().GetUnknown()) > 0 || msg.Current != nil || msg.Freshness != nil {
			err := sendWithin(f.sendStall, func() error { return stream.Send(msg) })
			if errors.Is(err, errFellBehind) {
				f.metrics.streamsDropped.WithLabelValues("gslb_feed").Inc()
				f.log.Warn("dns server fell behind: ending its feed stream; it resubscribes and gets the current snapshot",
					"server", req.GetServerName(), "revision", cur.snap.GetRevision(), "peer", peerAddr(ctx))
				return status.Errorf(codes.ResourceExhausted, "gslb feed fell behind: the message of revision %d was not taken in time; resubscribe to get the current snapshot", cur.snap.GetRevision())
			}
			if err != nil {
				return err
			}
			if sent == nil {
				what := "snapshot"
				if msg.Current != nil {
					what = "current"
				}
				f.metrics.feedFirsts.WithLabelValues(what).Inc()
			}
			if msg.Freshness != nil {
				told.sent(msg.Freshness, sent == nil)
				sentConf = conf
			}
			sent = cur
			if msg.GetFreshness().GetConfirmed() && sub != nil {
				sub.sent(conf)
			}
		}
		if f.fresh != nil && told.next(f.fresh, silent, conf) != nil {
			continue // the client is yet to hear whether etcd answers
		}
		select {
		case <-ctx.Done():
			return nil
		case <-f.stop:
			return status.Error(codes.Unavailable, "controller shutting down")
		case <-etcdLost:
			f.log.Warn("ending dns server's feed stream: this replica cannot reach etcd", "server", req.GetServerName())
			return f.etcd.refusal()
		case <-cur.stateChanged:
		case <-cur.observedChanged:
		case <-confirmed:
		case <-silenceChanged:
		}
	}
}

// snapshots is the snapshot source every stream of this server shares.
func (f *feedServer) snapshots() *gslbSnapshots {
	f.shareOnce.Do(func() { f.shared = &gslbSnapshots{cache: f.cache, observed: f.observed} })
	return f.shared
}
