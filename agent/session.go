package agent

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/anyctl/anyctl/backoff"
	"github.com/anyctl/anyctl/controlconn"
	"github.com/anyctl/anyctl/popstatus"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Version is the agent's version, reported in its hello.
var Version = "dev"

// session holds the agent's stream to a controller: it says hello with the
// revision it holds, delivers every config the controller sends, and sends
// status reports. It reconnects with jittered backoff until ctx ends, to
// the next controller replica each time: the stream resumes from the
// revision the agent holds, and the agent keeps announcing meanwhile.
type session struct {
	// controllers hands out the replica each attempt dials: the next one
	// after a stream breaks.
	controllers *controlconn.Rotation
	pop         string
	// instance names this run of the agent in its hello (newInstance):
	// the controller lets a stream with the instance of the PoP's claimed
	// live agent take that claim over at once, the agent having lost the
	// stream the claim was for.
	instance string
	log      *slog.Logger
	// tls gives the client side of mutual TLS for each connection; nil
	// speaks plain text.
	tls func() *tls.Config
	// dialOpts are added to the connection's; tests use them.
	dialOpts []grpc.DialOption

	// revision is the config revision the agent holds, for the hello; the
	// agent's loop stores it.
	revision *atomic.Int64
	// configs holds the newest config from the controller that the loop
	// has not taken yet, connected whether a stream is established (true
	// on each established stream, false on loss): the session puts each
	// in place of the one not taken (offer) and never waits for the loop.
	// So it reads the stream while the loop applies a config, taking the
	// replica's confirmations as they come, and a loop busy with one
	// config applies only the newest of those that came meanwhile.
	configs   chan *v1.PopConfig
	connected chan bool
	// reports carries status reports to send; the newest wins.
	reports chan *v1.PopStatus
	// staleAfter is how long a replica that confirms its state may go
	// without a confirmation before the session moves to another one
	// (0: controlconn.DefaultStaleAfter).
	staleAfter time.Duration
	// patience makes the streams wait longer on replicas that do not
	// confirm while none does.
	patience controlconn.Patience
	// keepAlive is how long the loop may go without a report before the
	// session takes it to be busy and tells the controller that the
	// agent lives, its status unchanged, every keepAlive/2 (0: never).
	keepAlive time.Duration
}

// maxKeepAlive bounds how long the session speaks for a loop that does
// not report: a loop quiet for longer is stuck, and the controller should
// count the agent gone.
const maxKeepAlive = time.Minute

func (s *session) run(ctx context.Context) {
	bo := backoff.New(200*time.Millisecond, 10*time.Second)
	for {
		target := s.controllers.Next(ctx)
		err := s.once(ctx, bo, target)
		if ctx.Err() != nil {
			return
		}
		if status.Code(err) == codes.FailedPrecondition {
			// Say another agent holds this PoP; retrying lets this one take
			// over once that one goes away.
			s.log.Error("controller refused this agent; retrying with backoff", "controller", target.String(), "pop", s.pop, "reason", status.Convert(err).Message())
		} else {
			s.log.Warn("controller stream ended; reconnecting", "controller", target.String(), "err", err)
		}
		offer(s.connected, false)
		if !bo.Wait(ctx) {
			return
		}
	}
}

// once runs one stream until it breaks.
func (s *session) once(ctx context.Context, bo *backoff.Backoff, target controlconn.Target) error {
	conn, err := controlconn.DialTargetTLS(target, s.tls, append(controlconn.FixedWindows(), s.dialOpts...)...)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stream, err := v1.NewAgentServiceClient(conn).Connect(ctx, grpc.WaitForReady(false))
	if err != nil {
		return err
	}
	staleAfter := s.staleAfter
	if staleAfter == 0 {
		staleAfter = controlconn.DefaultStaleAfter
	}
	stale := controlconn.NewStaleness(staleAfter, "controllerStaleAfter", cancel).Patient(&s.patience, s.controllers.Len())
	defer stale.Stop()
	// A Send that returns io.EOF found the stream ended, say refused by
	// the controller; gRPC gives the reason only to Recv, so the loop
	// below returns it.
	hello := &v1.AgentHello{Pop: s.pop, Revision: s.revision.Load(), AgentVersion: Version, Instance: s.instance, TakesFreshness: true}
	if err := stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: hello}}); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	sendErr := make(chan error, 1)
	// acceptsUnchanged is set when the controller's first response says
	// it takes an unchanged report as such; acceptsRevision, when it
	// also takes one that names another config revision.
	var acceptsUnchanged, acceptsRevision atomic.Bool
	go func() {
		// sent is the last report sent on this stream, as the controller
		// holds it; heard is when the loop last queued one.
		var sent *v1.PopStatus
		heard := time.Now()
		var quiet <-chan time.Time
		if s.keepAlive > 0 {
			t := time.NewTicker(s.keepAlive / 2)
			defer t.Stop()
			quiet = t.C
		}
		send := func(m *v1.ConnectRequest) bool {
			if err := stream.Send(m); err != nil {
				if !errors.Is(err, io.EOF) { // io.EOF: Recv returns why
					sendErr <- err
				}
				return false
			}
			return true
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-quiet:
				// The loop reports at least every status interval: one
				// quiet for longer is busy, applying a config that takes
				// long. Its report stays true meanwhile (the loop alone
				// changes what it says), so the controller is told so,
				// lest it count the agent gone; for maxKeepAlive at
				// most, so that a loop that is stuck is not hidden.
				if sent == nil || time.Since(heard) < s.keepAlive || time.Since(heard) > maxKeepAlive {
					continue
				}
				m := &v1.ConnectRequest{Msg: unchangedMsg}
				if !acceptsUnchanged.Load() {
					m.Msg = &v1.ConnectRequest_Status{Status: sent}
				}
				if !send(m) {
					return
				}
			case st := <-s.reports:
				heard = time.Now()
				if sent == nil {
					// The stream's first report may have waited in the
					// queue while the agent was cut off: stamped as sent,
					// the controller's copy says when this stream began
					// reporting, and the unchanged ones after it are not
					// written.
					st = proto.CloneOf(st)
					st.ReportedAt = timestamppb.Now()
				}
				m := &v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: st}}
				switch {
				case sent == nil || !acceptsUnchanged.Load():
				case popstatus.Same(sent, st):
					m.Msg = unchangedMsg
				case acceptsRevision.Load() && popstatus.SameButRevision(sent, st):
					m.Msg = &v1.ConnectRequest_Unchanged{Unchanged: &v1.StatusUnchanged{ConfigRevision: st.GetConfigRevision()}}
				}
				if !send(m) {
					return
				}
				if m.Msg != unchangedMsg {
					sent = st
				}
			}
		}
	}()
	first := true
	for {
		msg, err := stream.Recv()
		if err != nil {
			select {
			case e := <-sendErr:
				return e
			default:
			}
			if cause := context.Cause(ctx); errors.Is(cause, controlconn.ErrStale) {
				return cause
			}
			return err
		}
		if f := msg.GetFreshness(); f != nil {
			stale.Take(f.GetInterval().AsDuration(), f.GetConfirmed(), f.GetAge().AsDuration())
		} else if first && !stale.Confirms() && msg.GetConfig() != nil {
			s.log.Info("the controller replica does not confirm that its state is current (an older controller); only a broken stream moves the agent from it", "controller", target.String())
		}
		cfg := msg.GetConfig()
		if cfg == nil {
			continue
		}
		if cfg.GetPop() != s.pop {
			return fmt.Errorf("controller sent a config for PoP %q to the agent of PoP %q", cfg.GetPop(), s.pop)
		}
		if first {
			first = false
			acceptsUnchanged.Store(msg.GetAcceptsUnchanged())
			acceptsRevision.Store(msg.GetAcceptsUnchanged() && msg.GetAcceptsRevisionOnly())
			bo.Reset()
			s.log.Info("connected to controller", "controller", target.String(), "held_revision", hello.GetRevision(), "revision", cfg.GetRevision())
			offer(s.connected, true)
		}
		offer(s.configs, cfg)
	}
}

// unchangedMsg is the report that says nothing changed since the last.
var unchangedMsg = &v1.ConnectRequest_Unchanged{Unchanged: &v1.StatusUnchanged{}}

// report queues a status report, replacing one not yet sent.
func (s *session) report(st *v1.PopStatus) { offer(s.reports, st) }

// offer puts v in ch, which must be buffered, taking out a value not yet
// received when ch is full: the receiver gets the newest. It never waits,
// and with one sender a newer value never goes before an older one.
func offer[T any](ch chan T, v T) {
	for {
		select {
		case ch <- v:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

// newInstance returns a random name for one run of an agent.
func newInstance() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b[:])
}
