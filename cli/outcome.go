package cli

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// unknownOutcomeError is a write whose request went out but whose answer
// never came: the controller may have applied it. anyctl exits with
// ExitUnknownOutcome, never claiming a failure that may be a success.
type unknownOutcomeError struct{ err error }

func (e unknownOutcomeError) Error() string {
	return fmt.Sprintf("unknown outcome: the controller may have applied it; check with anyctl get (%v)", e.err)
}

func (e unknownOutcomeError) Unwrap() error { return e.err }

// requestSent records whether a call's request left for the controller.
// callAdminWrite puts one in the call's context; sentHandler sets it.
type requestSent struct{ sent atomic.Bool }

type requestSentKey struct{}

// sentHandler is the client connection's stats handler: it marks the
// context's requestSent when a request message is written to the
// connection.
type sentHandler struct{}

func (sentHandler) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (sentHandler) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (sentHandler) HandleConn(context.Context, stats.ConnStats) {}
func (sentHandler) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if _, ok := s.(*stats.OutPayload); !ok {
		return
	}
	if rs, ok := ctx.Value(requestSentKey{}).(*requestSent); ok {
		rs.sent.Store(true)
	}
}

// outcomeUnknown reports whether err, from a call whose request was sent,
// leaves open whether the controller acted on it: the connection broke,
// the deadline passed or the call was cancelled before the answer came.
// The controller's own refusals (InvalidArgument, Aborted, ...) are
// answers, and say nothing was written.
func outcomeUnknown(err error, sent bool) bool {
	if err == nil || !sent {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Unknown:
		return true
	}
	return false
}
