package store

import (
	"context"
	"errors"
	"fmt"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// WatchEvent is one change of desired state, or the error that ends a watch.
type WatchEvent struct {
	Type v1.EventType
	// Object is the new value on PUT and the last value on DELETE, with
	// its versions set.
	Object *v1.Object
	// Revision is the revision of the change; the objects of one apply
	// share it.
	Revision int64
	// LastInRevision marks the last event of its revision: a reader that
	// applies events to a copy of the state has a consistent state only
	// after it (etcd never splits one revision's events across responses).
	LastInRevision bool
	// Err, when set, is the last event. It wraps ErrCompacted when the
	// start revision is gone: list again and watch from the list's
	// revision+1.
	Err error
}

// Watch sends every change of one kind (every kind for KIND_UNSPECIFIED)
// from startRevision on, 0 meaning from now, in revision order. The channel
// closes after an error event, or when ctx is done.
func (s *Store) Watch(ctx context.Context, kind v1.Kind, startRevision int64) <-chan WatchEvent {
	out := make(chan WatchEvent)
	go func() {
		defer close(out)
		send := func(ev WatchEvent) bool {
			select {
			case out <- ev:
				return true
			case <-ctx.Done():
				return false
			}
		}
		if err := checkKind(kind, true); err != nil {
			send(WatchEvent{Err: fmt.Errorf("watch: %w", err)})
			return
		}
		if err := s.watch(ctx, kindPrefix(kind), startRevision, send); err != nil && ctx.Err() == nil {
			send(WatchEvent{Err: err})
		}
	}()
	return out
}

// watch runs one etcd watch until it fails or ctx is done, handing each
// event to send.
func (s *Store) watch(ctx context.Context, prefix string, startRevision int64, send func(WatchEvent) bool) error {
	return s.watchPrefix(ctx, prefix, startRevision, true, nil, func(evs []*clientv3.Event) (bool, error) {
		for i, ev := range evs {
			we, err := event(ev)
			if err != nil {
				return false, err
			}
			we.LastInRevision = i == len(evs)-1
			if !send(we) {
				return false, nil
			}
		}
		return true, nil
	})
}

// watchPrefix follows the keys under prefix from startRevision on (0:
// from now) and hands fn the events of one revision at a time, in revision
// order (etcd never splits one revision's events across responses). It
// returns nil when ctx is done or fn returns false, and an error when fn
// fails, when etcd ends the watch, or, wrapping ErrCompacted, when etcd has
// compacted startRevision away: the caller lists again and watches from
// the list's revision+1. prevKV asks for deleted keys' last values.
// progress, when set, is called with a revision up to which every event
// has been handed to fn: after each response's events, and on each
// progress notification (RequestProgress), which reaches only the
// watches on the mirrors' stream (ctx from mirrorStream).
func (s *Store) watchPrefix(ctx context.Context, prefix string, startRevision int64, prevKV bool, progress func(rev int64), fn func(evs []*clientv3.Event) (bool, error)) error {
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel() // releases the etcd watcher
	opts := []clientv3.OpOption{clientv3.WithPrefix()}
	if prevKV {
		opts = append(opts, clientv3.WithPrevKV())
	}
	if startRevision > 0 {
		opts = append(opts, clientv3.WithRev(startRevision))
	}
	for wr := range s.cli.Watch(ctx, prefix, opts...) {
		if wr.CompactRevision != 0 {
			return fmt.Errorf("watch %s from revision %d: %w (compacted up to revision %d); list again and watch from the list's revision+1",
				prefix, startRevision, ErrCompacted, wr.CompactRevision)
		}
		if err := wr.Err(); err != nil {
			return fmt.Errorf("watch %s: %w", prefix, err)
		}
		for evs := wr.Events; len(evs) > 0; {
			n := 1
			for n < len(evs) && evs[n].Kv.ModRevision == evs[0].Kv.ModRevision {
				n++
			}
			more, err := fn(evs[:n])
			if err != nil {
				return fmt.Errorf("watch %s: %w", prefix, err)
			}
			if !more {
				return nil
			}
			evs = evs[n:]
		}
		if progress == nil {
			continue
		}
		// A progress notification says every event up to its revision
		// was sent; a response with events, up to its last event.
		if wr.IsProgressNotify() {
			progress(wr.Header.Revision)
		} else if n := len(wr.Events); n > 0 {
			progress(wr.Events[n-1].Kv.ModRevision)
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return errors.New("watch " + prefix + ": etcd closed the watch; list again and watch from the list's revision+1")
}

func event(ev *clientv3.Event) (WatchEvent, error) {
	switch ev.Type {
	case clientv3.EventTypePut:
		o, err := decode(ev.Kv)
		return WatchEvent{Type: v1.EventType_EVENT_TYPE_PUT, Object: o, Revision: ev.Kv.ModRevision}, err
	case clientv3.EventTypeDelete:
		o, err := lastValue(ev.Kv, ev.PrevKv)
		return WatchEvent{Type: v1.EventType_EVENT_TYPE_DELETE, Object: o, Revision: ev.Kv.ModRevision}, err
	}
	return WatchEvent{}, fmt.Errorf("key %q: unknown event type %v", ev.Kv.Key, ev.Type)
}
