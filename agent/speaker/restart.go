package speaker

import (
	"context"
	"net/netip"
	"slices"
	"time"

	api "github.com/osrg/gobgp/v3/api"
)

// After a restart the neighbours are added one at a time: each is added
// once the one before has resynchronised (sent its End-of-RIB) or
// stageTimeout has passed. GoBGP v3.37.0 leaves restart mode for every
// neighbour as soon as the first connected one sends its End-of-RIB,
// counting those not yet connected as done (osrg/gobgp#3431, fixed only in
// v4): a neighbour connecting later would get an OPEN without the Restart
// State and forwarding bits, and RFC 4724 has it drop the routes it kept at
// once. A neighbour added after that moment is added restarting, so each
// OPEN carries the bits. Peers keep the routes meanwhile, so the extra
// seconds move nothing.

// stageTimeout bounds the wait for one neighbour before the next is added.
const stageTimeout = 10 * time.Second

// stageEvery is how often the staging checks the neighbour it waits for.
const stageEvery = 100 * time.Millisecond

// staging is the state of the staged adding; owned by the loop goroutine.
type staging struct {
	// waiting are the neighbours not added yet.
	waiting map[netip.Addr]Peer
	// current is the neighbour added last, until it has resynchronised;
	// zero when none.
	current netip.Addr
	since   time.Time
}

// stageNext adds the next waiting neighbour when none is resynchronising,
// and ends the staging when none is left. It runs on the owner goroutine.
func (s *Speaker) stageNext(ctx context.Context) error {
	st := s.stage
	if st == nil || st.current.IsValid() {
		return nil
	}
	if len(st.waiting) == 0 {
		s.stage = nil
		s.gr.Restarting = false
		s.publishWaiting()
		s.log.Info("bgp graceful restart: every neighbour added")
		return nil
	}
	addrs := make([]netip.Addr, 0, len(st.waiting))
	for a := range st.waiting {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	addr := addrs[0]
	p := st.waiting[addr]
	if err := s.bgp.AddPeer(ctx, &api.AddPeerRequest{Peer: apiPeer(p, s.gr)}); err != nil {
		return err
	}
	delete(st.waiting, addr)
	s.peers[addr] = p
	st.current, st.since = addr, time.Now()
	s.publishWaiting()
	s.log.Info("bgp neighbour added, restarting", "peer", addr, "asn", p.ASN, "waiting", len(st.waiting))
	return nil
}

// stageTick moves the staging on once the current neighbour has
// resynchronised or stageTimeout has passed. It runs on the owner
// goroutine and reports whether staging is over.
func (s *Speaker) stageTick(ctx context.Context) (bool, error) {
	st := s.stage
	if st == nil {
		return true, nil
	}
	if st.current.IsValid() && (s.resynchronised(ctx, st.current) || time.Since(st.since) > stageTimeout) {
		st.current = netip.Addr{}
	}
	if err := s.stageNext(ctx); err != nil {
		return false, err
	}
	return s.stage == nil, nil
}

// resynchronised reports whether the neighbour at addr is established and
// has sent End-of-RIB for every family it does graceful restart in.
func (s *Speaker) resynchronised(ctx context.Context, addr netip.Addr) bool {
	done := false
	_ = s.bgp.ListPeer(ctx, &api.ListPeerRequest{Address: addr.String()}, func(p *api.Peer) {
		if p.GetState().GetSessionState() != api.PeerState_ESTABLISHED {
			return
		}
		done = true
		for _, af := range p.GetAfiSafis() {
			if gr := af.GetMpGracefulRestart().GetState(); gr.GetReceived() && !gr.GetEndOfRibReceived() {
				done = false
			}
		}
	})
	return done
}

// runStaging moves the staging on until it is over or the speaker stops.
func (s *Speaker) runStaging() {
	tick := time.NewTicker(stageEvery)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
		}
		var over bool
		err := s.do(context.Background(), false, func() error {
			var err error
			over, err = s.stageTick(context.Background())
			return err
		})
		if err != nil {
			s.log.Warn("bgp graceful restart: adding the next neighbour", "err", err)
		}
		if over || err == ErrStopped {
			return
		}
	}
}

// publishWaiting replaces the snapshot of waiting neighbours PeerStatus
// reads. It runs on the owner goroutine.
func (s *Speaker) publishWaiting() {
	var out []PeerState
	if s.stage != nil {
		for _, p := range s.stage.waiting {
			out = append(out, PeerState{Address: p.Address, ASN: p.ASN, State: "idle",
				LastProblem: Problem{Text: "graceful restart: waiting for the neighbours before it to resynchronise", At: time.Now()}})
		}
	}
	s.waiting.Store(&out)
}
