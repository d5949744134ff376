package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/anyctl/anyctl/controller/store"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// checkWritable makes one linearizable read before a write: a write etcd
// cannot carry out is refused with the cause and the certainty that
// nothing was written, instead of running into etcd's own request timeout
// with an outcome the client cannot know.
//
// A slow etcd is not a lost one: the read may take as long as any read
// (store.ReadTimeout), so a write through an etcd that answers in seconds
// (a slow disk, an overloaded member) is carried out. What h knows
// refuses a write at once, without the read: an etcd that has not
// answered the replica's probes, started every etcdProbeInterval, for
// etcdPromptRead (silent), or for the grace (degraded), would not answer
// the read either. Such silence lasts no longer than the first late
// answers take to come once etcd slows down: from then on a slow etcd
// answers a probe about every etcdProbeInterval. A nil h knows nothing,
// and only the read decides.
func checkWritable(ctx context.Context, st *store.Store, h *etcdHealth, what string) error {
	if err := h.writeRefusal(time.Now()); err != nil {
		return refusedWrite(what, err)
	}
	start := time.Now()
	err := st.Ping(ctx, store.ReadTimeout)
	if err == nil || ctx.Err() != nil {
		return nil // the write itself reports a cancelled caller
	}
	if h != nil && time.Since(start) >= store.ReadTimeout {
		if a := h.answers(time.Now()); !a.silent {
			return refusedWrite(what, slowErr(a))
		}
	}
	return refusedWrite(what, err)
}

func refusedWrite(what string, err error) error {
	return status.Errorf(codes.FailedPrecondition, "%s refused, nothing was written: %v", what, err)
}

// writeRefusal says why a write made now would get no answer from etcd:
// it is silent or degraded (nil while it answers, however slowly).
func (h *etcdHealth) writeRefusal(now time.Time) error {
	if h == nil {
		return nil
	}
	a := h.answers(now)
	if !a.silent && h.degradedErr() == nil {
		return nil
	}
	return fmt.Errorf("%w: no answer to this replica for %s; a majority of its members must be up and reachable",
		store.ErrQuorumLost, a.age.Round(100*time.Millisecond))
}

// slowErr says that etcd did not answer a write's check in time while it
// went on answering the replica's probes: it is slow, not lost.
func slowErr(a etcdAnswers) error {
	last := fmt.Sprintf("%s ago", a.age.Round(100*time.Millisecond))
	if a.roundTrip > 0 {
		last += ", after " + a.roundTrip.Round(100*time.Millisecond).String()
	}
	return fmt.Errorf("etcd did not answer within %s; it answers, but slowly (its last answer to this replica came %s): try again once it is faster", store.ReadTimeout, last)
}
