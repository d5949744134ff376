package controller

import (
	"context"
	"sync/atomic"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"
)

// eventQueue is one Watch stream's bounded queue between the handler,
// which reads the store's events and puts them, and the goroutine that
// sends them to the client (sendAll).
type eventQueue struct {
	ch       chan sizedEvent
	maxBytes int64
	bytes    atomic.Int64  // wire size of the events in ch
	freed    chan struct{} // signalled (1 slot) when sendAll takes an event
	gauge    prometheus.Gauge
}

type sizedEvent struct {
	resp *v1.WatchResponse
	size int64
}

// newEventQueue bounds a queue to maxEvents and maxBytes (0: the defaults);
// gauge counts the events queued.
func newEventQueue(maxEvents int, maxBytes int64, gauge prometheus.Gauge) *eventQueue {
	if maxEvents <= 0 {
		maxEvents = defaultWatchQueue
	}
	if maxBytes <= 0 {
		maxBytes = defaultWatchQueueBytes
	}
	return &eventQueue{ch: make(chan sizedEvent, maxEvents), maxBytes: maxBytes, freed: make(chan struct{}, 1), gauge: gauge}
}

func (q *eventQueue) maxEvents() int { return cap(q.ch) }

// len returns the events queued and their wire size.
func (q *eventQueue) len() (int, int64) { return len(q.ch), q.bytes.Load() }

// put queues resp, waiting up to grace for room; false: the queue stayed
// full. Only the handler puts.
func (q *eventQueue) put(resp *v1.WatchResponse, grace time.Duration) bool {
	ev := sizedEvent{resp, int64(proto.Size(resp))}
	if q.tryPut(ev) {
		return true
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	for {
		select {
		case <-q.freed:
			if q.tryPut(ev) {
				return true
			}
		case <-t.C:
			return false
		}
	}
}

// tryPut queues ev if both bounds allow; an event larger than maxBytes
// goes only into an empty queue.
func (q *eventQueue) tryPut(ev sizedEvent) bool {
	if before := q.bytes.Add(ev.size) - ev.size; before > 0 && before+ev.size > q.maxBytes {
		q.bytes.Add(-ev.size)
		return false
	}
	q.gauge.Inc()
	select {
	case q.ch <- ev:
		return true
	default:
		q.gauge.Dec()
		q.bytes.Add(-ev.size)
		return false
	}
}

// take accounts for an event taken out of the queue.
func (q *eventQueue) take(ev sizedEvent) {
	q.gauge.Dec()
	q.bytes.Add(-ev.size)
	select {
	case q.freed <- struct{}{}:
	default:
	}
}

// sendAll sends the queued events until the queue is closed and empty,
// ctx is done or a send fails.
func (q *eventQueue) sendAll(ctx context.Context, stream v1.AdminService_WatchServer) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-q.ch:
			if !ok {
				return nil
			}
			q.take(ev)
			if err := stream.Send(ev.resp); err != nil {
				return err
			}
		}
	}
}

// close tells sendAll that no more events come. Only the handler closes.
func (q *eventQueue) close() { close(q.ch) }

// discard drops what a finished stream left queued, so that the gauge
// counts only live streams' events.
func (q *eventQueue) discard() {
	for {
		select {
		case ev, ok := <-q.ch:
			if !ok {
				return
			}
			q.take(ev)
		default:
			return
		}
	}
}
