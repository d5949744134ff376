package speaker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"
	"unicode/utf8"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/server"
)

// Speaker is a running in-process BGP speaker. Its methods are safe for
// concurrent use; mutations are applied one at a time, in arrival order.
type Speaker struct {
	bgp *server.BgpServer
	log *slog.Logger
	asn uint32

	ops  chan op       // mutations, run in order by loop
	done chan struct{} // closed when loop has returned after Stop

	// announced is an immutable snapshot of paths, sorted by prefix, for
	// Announced; loop replaces it after every change.
	announced atomic.Pointer[[]Announcement]
	sessions  *sessionTable
	// stopWatch ends the session watcher.
	stopWatch context.CancelFunc

	// Owned by loop: read and written only inside ops.
	peers map[netip.Addr]Peer
	paths map[netip.Prefix]Announcement
	// policy is the routing policy GoBGP holds; nil before the first.
	policy *api.SetPoliciesRequest
	// gr is the graceful restart every neighbour is added with.
	gr GracefulRestart
	// stage is the staged adding of neighbours after a restart (see
	// staging); nil when neighbours are added at once.
	stage *staging
	// waiting is the snapshot of neighbours staging has not added yet, for
	// PeerStatus.
	waiting atomic.Pointer[[]PeerState]
}

// op is one mutation for loop to run; stop ends loop after it.
type op struct {
	run  func() error
	errc chan error
	stop bool
}

// Start runs a BGP speaker with cfg and adds cfg.Peers. ctx bounds the start
// only; the speaker runs until Stop.
func Start(ctx context.Context, cfg Config) (*Speaker, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sessions := newSessionTable(logger)
	bgp := server.NewBgpServer(server.LoggerOption(gobgpLogger{log: logger, problem: sessions.noteProblem}))
	go bgp.Serve()
	global := &api.Global{Asn: cfg.ASN, RouterId: cfg.RouterID.String(), ListenPort: cfg.ListenPort}
	if err := bgp.StartBgp(ctx, &api.StartBgpRequest{Global: global}); err != nil {
		bgp.Stop() // do not leak the server a retry would start again
		return nil, fmt.Errorf("speaker: starting BGP as AS%d, router ID %q, listen port %d: %w", cfg.ASN, cfg.RouterID.String(), cfg.ListenPort, err)
	}
	s := &Speaker{
		bgp:      bgp,
		log:      logger,
		asn:      cfg.ASN,
		ops:      make(chan op),
		done:     make(chan struct{}),
		sessions: sessions,
		peers:    map[netip.Addr]Peer{},
		paths:    map[netip.Prefix]Announcement{},
		gr:       cfg.GracefulRestart,
	}
	s.publish()
	if cfg.GracefulRestart.Enabled && cfg.GracefulRestart.Restarting {
		s.stage = &staging{waiting: map[netip.Addr]Peer{}}
	}
	s.publishWaiting()
	watchCtx, stopWatch := context.WithCancel(context.Background())
	s.stopWatch = stopWatch
	if err := bgp.WatchEvent(watchCtx, &api.WatchEventRequest{Peer: &api.WatchEventRequest_Peer{}}, s.sessions.observe); err != nil {
		stopWatch()
		bgp.Stop()
		return nil, fmt.Errorf("speaker: watching BGP sessions: %w", err)
	}
	go s.loop()
	if err := s.SetPeers(ctx, cfg.Peers); err != nil {
		_ = s.Stop(context.WithoutCancel(ctx), "")
		return nil, err
	}
	if s.stage != nil {
		go s.runStaging()
	}
	return s, nil
}

// loop is the owner goroutine: it runs every mutation, one at a time.
func (s *Speaker) loop() {
	defer close(s.done)
	for o := range s.ops {
		o.errc <- o.run()
		if o.stop {
			return
		}
	}
}

// do runs f on the owner goroutine and returns its error. It gives up with
// ctx's error while waiting its turn, and returns ErrStopped once the
// speaker has stopped. Once started, f runs to its end: long operations
// check ctx themselves.
func (s *Speaker) do(ctx context.Context, stop bool, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := op{run: f, errc: make(chan error, 1), stop: stop}
	select {
	case s.ops <- o:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrStopped
	}
	return <-o.errc
}

// Stop closes every session with a Cease NOTIFICATION, subcode 2
// (administrative shutdown), carrying message as the RFC 8203 shutdown
// communication (cut to 255 bytes), and stops the server. Announcements
// go with the sessions. Stop is idempotent; after it every other call
// returns ErrStopped. If ctx ends before GoBGP has finished closing, Stop
// returns ctx's error and the speaker counts as stopped all the same.
func (s *Speaker) Stop(ctx context.Context, message string) error {
	err := s.do(ctx, true, func() error {
		defer s.stopWatch()
		s.shutdownSessions(ctx, message)
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			s.bgp.Stop()
		}()
		clear(s.paths)
		clear(s.peers)
		s.stage = nil
		s.publish()
		s.publishWaiting()
		select {
		case <-finished:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("speaker: stopping BGP: %w", ctx.Err())
		}
	})
	if errors.Is(err, ErrStopped) {
		return nil
	}
	return err
}

// shutdownSessions takes every neighbour administratively down, which
// sends the NOTIFICATION, and waits (up to shutdownWait, or ctx) for the
// sessions to close: GoBGP's own stop would otherwise close them first with
// "peer de-configured". It waits on GoBGP's own state of each neighbour as
// well as the sessions watched: a session that came up a moment ago may
// not be reported up yet, and GoBGP takes a neighbour down on its own
// goroutine. It runs on the owner goroutine.
func (s *Speaker) shutdownSessions(ctx context.Context, message string) {
	message = cutUTF8(message, maxShutdownMessage)
	var disabled []netip.Addr
	for addr := range s.peers {
		if err := s.bgp.DisablePeer(ctx, &api.DisablePeerRequest{Address: addr.String(), Communication: message}); err != nil {
			s.log.Warn("bgp neighbour: sending the administrative shutdown", "peer", addr, "err", err)
			continue
		}
		disabled = append(disabled, addr)
	}
	wctx, cancel := context.WithTimeout(ctx, shutdownWait)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for s.sessions.anyUp() || s.closing(wctx, disabled) {
		select {
		case <-wctx.Done():
			return
		case <-tick.C:
		}
	}
}

// closing says whether GoBGP has one of the neighbours taken down not yet
// administratively down or still established: one whose NOTIFICATION may
// not have been sent.
func (s *Speaker) closing(ctx context.Context, addrs []netip.Addr) bool {
	closing := false
	for _, addr := range addrs {
		_ = s.bgp.ListPeer(ctx, &api.ListPeerRequest{Address: addr.String()}, func(p *api.Peer) {
			st := p.GetState()
			if st.GetAdminState() != api.PeerState_DOWN || st.GetSessionState() == api.PeerState_ESTABLISHED {
				closing = true
			}
		})
	}
	return closing
}

// maxShutdownMessage is RFC 8203's limit on the shutdown communication,
// in bytes; shutdownWait bounds the wait for sessions to close on Stop.
const (
	maxShutdownMessage = 255
	shutdownWait       = 2 * time.Second
)

// cutUTF8 is s cut to at most n bytes, at a rune boundary.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// publish replaces the snapshot Announced reads. It runs on the owner
// goroutine.
func (s *Speaker) publish() {
	out := make([]Announcement, 0, len(s.paths))
	for _, p := range sortedPrefixes(s.paths) {
		out = append(out, s.paths[p])
	}
	s.announced.Store(&out)
}

// Announced is the set currently handed to GoBGP, sorted by prefix (IPv4
// first), in canonical form. It reads a snapshot and never blocks.
func (s *Speaker) Announced() []Announcement {
	snap := *s.announced.Load()
	out := make([]Announcement, len(snap))
	for i, a := range snap {
		out[i] = a.clone()
	}
	return out
}
