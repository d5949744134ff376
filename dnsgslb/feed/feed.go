// Package feed is a DNS server's client of the controller's GSLB feed: it
// subscribes, hands every snapshot the controller sends to the server, and
// reconnects with jittered backoff until its context ends. Between
// connections the server keeps answering from the snapshot it holds.
package feed

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/backoff"
	"github.com/anyctl/anyctl/controlconn"
	"github.com/anyctl/anyctl/dnsgslb"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// MaxSnapshotBytes bounds one snapshot message; gRPC's default of 4 MiB is
// within reach of a large fleet's snapshot.
const MaxSnapshotBytes = 256 << 20

// Reconnect waits grow from minWait to maxWait, jittered.
const (
	minWait = 200 * time.Millisecond
	maxWait = 10 * time.Second
)

// Config configures the feed client.
type Config struct {
	// Controller is the controller's gRPC address, host:port or unix:PATH;
	// several replicas separated by commas. A DNS name that resolves to
	// several addresses stands for each of them. The feed streams from one
	// replica at a time and moves to the next when its stream breaks.
	Controller string
	// ServerName names this DNS server in the controller's logs.
	ServerName string
	// TLS holds the files of the client side of mutual TLS with the
	// controller: each connection takes the ones in use then, so renewed
	// files need no restart. nil speaks plain text.
	TLS *authn.Reloader
	// TLSServerName is the name the controller's certificate is checked
	// against; empty for the host each replica was dialled by.
	TLSServerName string
	Logger        *slog.Logger
	// Connected, when set, is told when a stream starts (true, at its
	// first snapshot, or at the replica's word that the one held is
	// current) and when it breaks (false).
	Connected func(bool)
	// Digest, when set, is called on each subscribe, after Run's
	// revision: the content digest of the snapshot held
	// (GslbSnapshot.digest). A replica whose current snapshot has that
	// revision and digest says so (SubscribeResponse.current) instead of
	// sending it, and apply is not called for it.
	Digest func() []byte
	// PersistedRefusal, sent on each subscribe, says why the server
	// refused its persisted snapshot at start, for anyctl status.
	PersistedRefusal string
	// KeySets, when set, is called on each subscribe: the DNSKEY RRsets
	// the server answers, sent for anyctl status.
	KeySets func() []*v1.DnssecKeySet
	// Resubscribe, when it receives, ends the stream and subscribes again
	// at once, to say what changed (the DNSKEY RRsets).
	Resubscribe <-chan struct{}
	// MaxSnapshotBytes bounds one snapshot message; 0 means
	// MaxSnapshotBytes.
	MaxSnapshotBytes int
	// StaleAfter is how long a stream from a replica that confirms its
	// state (FeedFreshness) may go without a confirmation before the
	// feed leaves it for the next replica, keeping its snapshot: at
	// least three of the replica's intervals. A replica that never says
	// it confirms (an older controller) is not held to it. 0 means
	// DefaultStaleAfter.
	StaleAfter time.Duration
	// Confirmed, when set, is told the time (on this host's clock) as of
	// which each confirmation received says the snapshot is current,
	// and the zero time when a stream starts from a replica that does
	// not confirm (an older controller).
	Confirmed func(at time.Time)
}

// DefaultStaleAfter is Config.StaleAfter's default: four of a default
// replica's confirmation intervals (controller.DefaultFeedConfirmEvery).
const DefaultStaleAfter = controlconn.DefaultStaleAfter

// CheckStaleAfter says why d cannot be Config.StaleAfter.
func CheckStaleAfter(d time.Duration) error {
	if d < time.Second {
		return fmt.Errorf("want at least 1s: the time a replica may go without confirming its state before the feed moves to another one")
	}
	return nil
}

// errTooLarge wraps a stream ended by a snapshot over the size the
// server accepts: the controller is reachable, and sends it again on
// every subscribe until the desired state shrinks.
var errTooLarge = errors.New("the controller's GSLB snapshot is larger than this DNS server accepts")

// errResubscribe ends a stream that Config.Resubscribe asked to renew.
var errResubscribe = errors.New("resubscribing to send the DNSKEY RRsets again")

// errReport ends a stream to subscribe again at once, saying that the
// server rejected a snapshot, or serves one again after rejecting one
// (SubscribeRequest.snapshot_rejected).
var errReport = errors.New("resubscribing to say whether the server serves the snapshot it was sent")

// Run subscribes to the controller's GSLB feed and calls apply with the
// snapshots it sends, in order, from one goroutine; apply is given a
// context that ends with ctx, so that a build in progress stops with Run.
// The stream is read while apply runs, and of the snapshots that arrive
// meanwhile only the newest is applied next: each is the whole state, so
// a burst of changes during a build costs one more build, not one each.
// revision reports the snapshot revision the server holds, sent on each
// subscribe. A snapshot apply rejects is logged and said to the
// controller, which shows it in anyctl status: the stream is renewed on
// the same replica with the revision and why
// (SubscribeRequest.snapshot_rejected), once per revision rejected, and
// once more when a snapshot is served again (by apply, or otherwise: the
// server's revision is looked at on each of the replica's confirmations);
// a snapshot too large to receive is said on the next subscribe. The
// server keeps what it had until the controller sends one it accepts.
// Run reconnects whenever the stream breaks and returns nil when ctx is
// cancelled; it returns an error only for a configuration it cannot use.
func Run(ctx context.Context, cfg Config, apply func(context.Context, *v1.GslbSnapshot) error, revision func() int64) error {
	controllers, err := controlconn.ParseList(cfg.Controller)
	if err != nil {
		return fmt.Errorf("feed: Controller %q: %w", cfg.Controller, err)
	}
	if apply == nil || revision == nil {
		return errors.New("feed: apply and revision must not be nil")
	}
	if cfg.StaleAfter == 0 {
		cfg.StaleAfter = DefaultStaleAfter
	}
	if err := CheckStaleAfter(cfg.StaleAfter); err != nil {
		return fmt.Errorf("feed: StaleAfter %s: %w", cfg.StaleAfter, err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("controller", cfg.Controller)
	c := &client{cfg: cfg, log: log, apply: apply, revision: revision, controllers: controlconn.NewRotation(controllers)}
	c.run(ctx)
	return nil
}

// client is one Run's state; only Run's goroutine touches it, but for
// cfg and log, which each stream's receiving goroutine reads too.
type client struct {
	cfg      Config
	log      *slog.Logger
	apply    func(context.Context, *v1.GslbSnapshot) error
	revision func() int64
	// controllers hands out the replica each attempt dials.
	controllers *controlconn.Rotation
	// connected is true from a stream's first snapshot until it breaks.
	connected bool
	// failures counts attempts that failed since the last connection.
	failures int
	// patience makes the streams wait longer on replicas that do not
	// confirm while none does.
	patience controlconn.Patience
	// rejected says why the server does not serve the last snapshot it
	// was sent, "" when it does; sent on each subscribe
	// (SubscribeRequest.snapshot_rejected). rejectedRev is that
	// snapshot's revision, 0 for one too large to receive.
	rejected    string
	rejectedRev int64
}

func (c *client) run(ctx context.Context) {
	bo := backoff.New(minWait, maxWait)
	var target controlconn.Target
	renew := false
	for {
		// A stream renewed to say the RRsets again stays on its replica:
		// the next one may be down.
		if !renew {
			target = c.controllers.Next(ctx)
		}
		err := c.subscribe(ctx, bo, target)
		if ctx.Err() != nil {
			return
		}
		if renew = errors.Is(err, errResubscribe) || errors.Is(err, errReport); renew {
			if errors.Is(err, errReport) {
				c.log.Info("gslb feed: subscribing again to tell the controller whether the snapshot sent is served", "replica", target.String(), "rejected", c.rejected)
			} else {
				c.log.Info("gslb feed: subscribing again to report the DNSKEY RRsets answered", "replica", target.String())
			}
			continue
		}
		c.lost(target, err)
		if !bo.Wait(ctx) {
			return
		}
	}
}

// lost logs a broken stream or a failed attempt. Losing a connection is a
// warning; while the controller stays unreachable, the first failure is a
// warning and the rest are debug messages, so a long outage does not flood
// the log.
func (c *client) lost(target controlconn.Target, err error) {
	switch {
	case errors.Is(err, errTooLarge):
		// Not an outage: said at every attempt, whatever came before,
		// and to the controller on the next subscribe.
		c.log.Error("gslb snapshot refused for its size; answering from the last snapshot and retrying", "replica", target.String(), "err", err)
		c.rejected, c.rejectedRev = err.Error(), 0
		if c.connected {
			c.connected = false
			if c.cfg.Connected != nil {
				c.cfg.Connected(false)
			}
		}
	case c.connected:
		c.connected = false
		if c.cfg.Connected != nil {
			c.cfg.Connected(false)
		}
		c.log.Warn("gslb feed lost; answering from the last snapshot and reconnecting", "replica", target.String(), "err", err)
	case c.failures == 0:
		c.log.Warn("cannot reach the controller's gslb feed; answering from the last snapshot and retrying", "replica", target.String(), "err", err)
	default:
		c.log.Debug("gslb feed still unreachable", "attempts", c.failures+1, "replica", target.String(), "err", err)
	}
	c.failures++
}

// connectedTo notes a stream's first snapshot, or its word that the
// snapshot held is current (what says so): the feed is up.
func (c *client) connectedTo(bo *backoff.Backoff, target controlconn.Target, held, revision int64, what string) {
	if c.connected {
		return
	}
	c.connected, c.failures = true, 0
	bo.Reset()
	if c.cfg.Connected != nil {
		c.cfg.Connected(true)
	}
	args := []any{"replica", target.String(), "held_revision", held, "revision", revision}
	if what != "" {
		args = append(args, "snapshot", what)
	}
	c.log.Info("gslb feed connected", args...)
}

// subscribe runs one stream until it breaks or ctx ends.
func (c *client) subscribe(ctx context.Context, bo *backoff.Backoff, target controlconn.Target) (err error) {
	limit := c.cfg.MaxSnapshotBytes
	if limit == 0 {
		limit = MaxSnapshotBytes
	}
	var tlsCfg func() *tls.Config
	if r := c.cfg.TLS; r != nil {
		tlsCfg = func() *tls.Config { return r.ClientConfig(c.cfg.TLSServerName) }
	}
	conn, err := controlconn.DialTargetTLS(target, tlsCfg, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(limit)))
	if err != nil {
		return err
	}
	defer conn.Close()
	// A build in progress goes on when the stream is renewed: apply gets
	// Run's context, not the stream's.
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer func() {
		switch cause := context.Cause(ctx); {
		case errors.Is(cause, errResubscribe), errors.Is(cause, controlconn.ErrStale):
			err = cause
		}
	}()
	if c.cfg.Resubscribe != nil {
		// This subscribe says the RRsets as they are now.
		select {
		case <-c.cfg.Resubscribe:
		default:
		}
		go func() {
			select {
			case <-c.cfg.Resubscribe:
				cancel(errResubscribe)
			case <-ctx.Done():
			}
		}()
	}
	if c.rejectedRev != 0 && c.revision() >= c.rejectedRev {
		c.rejected, c.rejectedRev = "", 0 // served since (see below)
	}
	req := &v1.SubscribeRequest{Revision: c.revision(), ServerName: c.cfg.ServerName, PersistedSnapshotRefused: c.cfg.PersistedRefusal,
		SnapshotRejected: c.rejected}
	reportedRev := c.rejectedRev
	if c.cfg.Digest != nil && req.Revision > 0 {
		req.Digest = c.cfg.Digest()
	}
	if c.cfg.KeySets != nil {
		req.DnssecKeySets = c.cfg.KeySets()
	}
	stream, err := v1.NewGslbFeedServiceClient(conn).Subscribe(ctx, req)
	if err != nil {
		return err
	}
	in := newInbox()
	received := make(chan struct{})
	go func() {
		defer close(received)
		c.receive(stream, target, limit, cancel, in)
	}()
	// The receiving goroutine ends with the stream.
	defer func() {
		cancel(nil)
		<-received
	}()
	for {
		cur, snap, superseded, err := in.take()
		if cur != nil {
			if cur.GetRevision() != req.GetRevision() || !bytes.Equal(cur.GetDigest(), req.GetDigest()) {
				return fmt.Errorf("the replica said that revision %d (digest %x) is current, but this server holds revision %d (digest %x)", cur.GetRevision(), cur.GetDigest(), req.GetRevision(), req.GetDigest())
			}
			c.connectedTo(bo, target, req.GetRevision(), cur.GetRevision(), "the snapshot held is current: not sent again")
		}
		if snap != nil {
			c.connectedTo(bo, target, req.GetRevision(), snap.GetRevision(), "")
			if superseded > 0 {
				c.log.Info("gslb feed: building the newest snapshot only; those sent while the last one built are superseded", "revision", snap.GetRevision(), "superseded", superseded)
			}
			aerr := c.apply(parent, snap)
			if aerr != nil && parent.Err() != nil {
				return parent.Err()
			}
			switch {
			case aerr == nil:
				c.log.Info("gslb snapshot applied", "revision", snap.GetRevision(), "zones", len(snap.GetZones()), "records", len(snap.GetRecords()))
			case errors.Is(aerr, dnsgslb.ErrNotPersisted):
				c.log.Error("gslb snapshot applied but not persisted; a restart without a controller would serve an older one", "revision", snap.GetRevision(), "err", aerr)
			default:
				c.log.Error("gslb snapshot rejected; still answering from the previous one", "revision", snap.GetRevision(), "err", aerr)
			}
			if rerr := c.served(snap, aerr, req.GetSnapshotRejected() != "", reportedRev); rerr != nil {
				return rerr
			}
		}
		if err != nil {
			return err
		}
		if c.rejectedRev != 0 && c.revision() >= c.rejectedRev {
			// The server serves the snapshot it rejected, or a newer
			// one, given it otherwise (a GeoIP reload serves the one
			// that waited for the database): nothing to say any more.
			c.rejected, c.rejectedRev = "", 0
			if req.GetSnapshotRejected() != "" {
				return errReport
			}
		}
	}
}

// receive reads the stream until it ends, while snapshots are applied:
// it takes the replica's confirmations (a build longer than
// --feed-stale-after must not make a replica that confirms look stale)
// and puts the replica's word and the snapshots in in, and last the
// error that ended the stream. cancel ends the stream when the replica
// goes stale.
func (c *client) receive(stream v1.GslbFeedService_SubscribeClient, target controlconn.Target, limit int, cancel context.CancelCauseFunc, in *inbox) {
	watch := &stale{Staleness: controlconn.NewStaleness(c.cfg.StaleAfter, "--feed-stale-after", cancel).Patient(&c.patience, c.controllers.Len())}
	defer watch.Stop()
	type received struct {
		msg *v1.SubscribeResponse
		err error
	}
	for {
		// A snapshot of thousands of records takes milliseconds to
		// decode: that is done at the build's low priority too, so that
		// it does not take a CPU from the serving workers (or anything
		// else on the machine) when an update starts. The receive waits
		// for as long as the controller has nothing new, so its thread
		// is never in the idle class (dnsgslb.InBackgroundWaiting).
		r := dnsgslb.InBackgroundWaiting(func() received {
			msg, err := stream.Recv()
			return received{msg, err}
		})
		msg, err := r.msg, r.err
		if st, ok := status.FromError(err); ok && st.Code() == codes.ResourceExhausted && strings.Contains(st.Message(), "larger than max") {
			in.putErr(fmt.Errorf("%w (%d bytes at most): %w; it keeps its last snapshot until the snapshot fits: fewer or smaller GslbRecords, Origins, Pops or GslbZones", errTooLarge, limit, err))
			return
		}
		if err != nil {
			in.putErr(err)
			return
		}
		c.freshness(watch, msg, target)
		switch cur, snap := msg.GetCurrent(), msg.GetSnapshot(); {
		case cur != nil:
			in.putCurrent(cur)
		case snap != nil:
			in.putSnapshot(snap)
		default:
			// A confirmation: the applying goroutine looks again at
			// what the server serves (see subscribe).
			in.signal()
		}
	}
}

// served notes whether snap, applied with the error err, is served, and
// returns errReport when the controller must be told: a snapshot of
// another revision than the one this stream's subscribe said was
// rejected (reported, reportedRev) is rejected, or one is served after
// such a report. A rejection said already is not said again, so that the
// snapshot the replica sends again on the renewed stream, rejected
// again, does not renew it once more.
func (c *client) served(snap *v1.GslbSnapshot, err error, reported bool, reportedRev int64) error {
	if err == nil || errors.Is(err, dnsgslb.ErrNotPersisted) {
		c.rejected, c.rejectedRev = "", 0
		if reported {
			return errReport
		}
		return nil
	}
	c.rejected, c.rejectedRev = fmt.Sprintf("revision %d: %v", snap.GetRevision(), err), snap.GetRevision()
	if !reported || reportedRev != snap.GetRevision() {
		return errReport
	}
	return nil
}
