package controller

import (
	"errors"
	"time"
)

// defaultSendStall is how long a send on an agent or GSLB feed stream may
// wait for a client that does not read before the stream is ended. Those
// streams carry whole states, latest first, so each holds at most one
// message in flight however far its client falls behind; the limit ends
// streams whose client has stopped reading, and the client, reconnecting,
// gets the current state.
const defaultSendStall = time.Minute

// errFellBehind is sendWithin's answer when the send did not finish in time.
var errFellBehind = errors.New("the client fell behind: it did not read for the send limit")

// sendWithin runs send and waits for it at most limit (0: defaultSendStall),
// answering errFellBehind when it did not finish. The send then goes on
// until the stream ends, which the caller brings about by returning from
// the handler: gRPC cancels the stream, which ends a send that blocks on
// flow control.
func sendWithin(limit time.Duration, send func() error) error {
	if limit <= 0 {
		limit = defaultSendStall
	}
	done := make(chan error, 1)
	go func() { done <- send() }()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return errFellBehind
	}
}
