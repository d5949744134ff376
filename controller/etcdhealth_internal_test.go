package controller

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller/store"
)

// TestSlowEtcdDegradesBeforeStreamsEnd: without an answer from etcd for
// the grace the replica says it is degraded but keeps its streams; only
// without one for the replica lease's span are they ended, and the first
// answer restores both.
func TestSlowEtcdDegradesBeforeStreamsEnd(t *testing.T) {
	var reached []bool
	h := newEtcdHealth(nil, 5*time.Second, 15*time.Second, nil, slog.Default(), func(r bool) { reached = append(reached, r) })
	slow := context.DeadlineExceeded
	lost, _ := h.state()

	h.update(slow, 6*time.Second)
	if h.degradedErr() == nil {
		t.Fatal("6 s without an answer (grace 5 s): want degraded")
	}
	if _, err := h.state(); err != nil || isClosedCh(lost) || len(reached) != 0 {
		t.Fatalf("6 s without an answer (streams end after 15 s): streams ended (%v)", err)
	}

	h.update(slow, 15*time.Second)
	if _, err := h.state(); err == nil || !isClosedCh(lost) || !errors.Is(err, store.ErrQuorumLost) {
		t.Fatalf("15 s without an answer: want the streams ended, got %v", err)
	}

	h.update(nil, 0)
	if _, err := h.state(); err != nil || h.degradedErr() != nil || len(reached) != 2 || !reached[1] {
		t.Fatalf("etcd answering again: state %v, degraded %v, changes %v", err, h.degradedErr(), reached)
	}
}

func isClosedCh(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
