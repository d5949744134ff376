package controller

import (
	"context"
	"log/slog"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// A Watch stream queues at most defaultWatchQueue events and
// defaultWatchQueueBytes of them (wire size; one larger event is let into
// an empty queue) for a client that reads slower than they come. When the
// queue is full, the stream waits defaultWatchGrace for room, so that a
// client that reads takes in the burst of a large apply (each event waits
// only for the one before it to be sent), and then ends. While it waits,
// the etcd client holds what etcd delivers: a second's worth of writes.
const (
	defaultWatchQueue      = 1000
	defaultWatchQueueBytes = 1 << 20
	defaultWatchGrace      = time.Second
)

// Watch relays the store's events to the client through a bounded queue
// (eventQueue). The store's watch is read as fast as etcd delivers, so
// nothing piles up below the queue (the etcd client buffers without limit
// for a reader that stalls); a client that lets the queue fill is told it
// fell behind, to list again, and dropped.
func (a *adminServer) Watch(req *v1.WatchRequest, stream v1.AdminService_WatchServer) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	q := newEventQueue(a.watchQueue, a.watchQueueBytes, a.metrics.watchQueued)
	defer q.discard()
	sent := make(chan error, 1)
	go func() { sent <- q.sendAll(ctx, stream) }()
	grace := a.watchGrace
	if grace <= 0 {
		grace = defaultWatchGrace
	}

	events := a.st.Watch(ctx, req.GetKind(), req.GetStartRevision())
	for {
		select {
		case err := <-sent: // the client went away
			return err
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			if ev.Err != nil {
				// Deliver what is queued before the error.
				q.close()
				select {
				case <-sent:
				case <-ctx.Done():
				}
				return toStatus(ev.Err)
			}
			if q.put(&v1.WatchResponse{Type: ev.Type, Object: ev.Object, Revision: ev.Revision}, grace) {
				continue
			}
			select {
			case err := <-sent:
				return err
			default:
			}
			a.metrics.streamsDropped.WithLabelValues("watch").Inc()
			events, bytes := q.len()
			a.log.Warn("watch client fell behind: ending its stream; it must list again",
				"kind", resource.KindName(req.GetKind()), "queued_events", events, "queued_bytes", bytes,
				"max_events", q.maxEvents(), "max_bytes", q.maxBytes, "waited", grace, "revision", ev.Revision, "peer", peerAddr(ctx))
			return status.Errorf(codes.ResourceExhausted,
				"watch fell behind: the client left %d events (%d bytes) unread for %v; list again and watch from the list's revision+1",
				events, bytes, grace)
		}
	}
}

// peerAddr names the client of a stream, for logs.
func peerAddr(ctx context.Context) slog.Value {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return slog.StringValue(p.Addr.String())
	}
	return slog.StringValue("unknown")
}
