package controller

import (
	"context"
	"log/slog"
	"sync/atomic"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// A Watch stream queues at most defaultWatchQueue events and
// defaultWatchQueueBytes of them for a client that reads slower than they
// come; beyond either, the stream is ended. Both hold the burst of one
// apply (at most maxApplyObjects objects in a request of at most 4 MiB)
// for a client that keeps reading.
const (
	defaultWatchQueue      = 2 * maxApplyObjects
	defaultWatchQueueBytes = 16 << 20
)

// Watch relays the store's events to the client through a queue of at most
// a.watchQueue events. The store's watch is read as fast as etcd delivers,
// so nothing piles up below this queue (the etcd client buffers without
// limit for a reader that stalls); a client that lets the queue fill is
// told it fell behind, to list again, and dropped.
func (a *adminServer) Watch(req *v1.WatchRequest, stream v1.AdminService_WatchServer) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	bound := a.watchQueue
	if bound <= 0 {
		bound = defaultWatchQueue
	}
	maxBytes := a.watchQueueBytes
	if maxBytes <= 0 {
		maxBytes = defaultWatchQueueBytes
	}
	queue := make(chan *v1.WatchResponse, bound)
	var queuedBytes atomic.Int64 // of the events in queue
	defer a.unqueue(queue, &queuedBytes)
	sent := make(chan error, 1)
	go func() { sent <- a.sendQueued(ctx, stream, queue, &queuedBytes) }()

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
				close(queue)
				select {
				case <-sent:
				case <-ctx.Done():
				}
				return toStatus(ev.Err)
			}
			resp := &v1.WatchResponse{Type: ev.Type, Object: ev.Object, Revision: ev.Revision}
			size := int64(proto.Size(resp))
			if queuedBytes.Add(size) <= maxBytes {
				a.metrics.watchQueued.Inc()
				select {
				case queue <- resp:
					continue
				default:
					a.metrics.watchQueued.Dec()
				}
			}
			queuedBytes.Add(-size)
			a.metrics.streamsDropped.WithLabelValues("watch").Inc()
			a.log.Warn("watch client fell behind: ending its stream; it must list again",
				"kind", resource.KindName(req.GetKind()), "queued_events", len(queue), "queued_bytes", queuedBytes.Load(),
				"max_events", bound, "max_bytes", maxBytes, "revision", ev.Revision, "peer", peerAddr(ctx))
			return status.Errorf(codes.ResourceExhausted,
				"watch fell behind: the client left more than %d events or %d bytes unread; list again and watch from the list's revision+1", bound, maxBytes)
		}
	}
}

// sendQueued sends the queued events until the queue is closed and empty,
// ctx is done or a send fails.
func (a *adminServer) sendQueued(ctx context.Context, stream v1.AdminService_WatchServer, queue <-chan *v1.WatchResponse, queuedBytes *atomic.Int64) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case resp, ok := <-queue:
			if !ok {
				return nil
			}
			a.metrics.watchQueued.Dec()
			queuedBytes.Add(-int64(proto.Size(resp)))
			if err := stream.Send(resp); err != nil {
				return err
			}
		}
	}
}

// unqueue drops what a finished stream left queued, so that the gauge
// counts only live streams' events.
func (a *adminServer) unqueue(queue <-chan *v1.WatchResponse, queuedBytes *atomic.Int64) {
	for {
		select {
		case resp, ok := <-queue:
			if !ok {
				return
			}
			a.metrics.watchQueued.Dec()
			queuedBytes.Add(-int64(proto.Size(resp)))
		default:
			return
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
