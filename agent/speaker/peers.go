package speaker

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	api "github.com/osrg/gobgp/v3/api"
	"google.golang.org/protobuf/proto"
)

// SetPeers reconciles GoBGP's neighbours to peers, the full desired set (nil
// or empty: no neighbours). Neighbours that are gone are removed (their
// sessions closed), new ones added, and changed ones updated in GoBGP, which
// resets a session only when the change needs a new OPEN (address, port,
// ASN, password, families, local address); a new hold time applies from the
// next session. Unchanged neighbours are not touched.
//
// The set is refused whole, changing nothing, if a peer is invalid or if the
// prefixes announced now would exceed a new MaxPrefixes (a
// *PrefixLimitError): lower the announcements first.
func (s *Speaker) SetPeers(ctx context.Context, peers []Peer) error {
	want, err := normalizePeers(peers)
	if err != nil {
		return err
	}
	return s.do(ctx, false, func() error {
		if err := checkLimits(want, s.paths); err != nil {
			return err
		}
		return s.reconcilePeers(ctx, want)
	})
}

// reconcilePeers applies want in the order remove, update, add. It runs on
// the owner goroutine and records each step as it succeeds, so a failure
// part-way leaves s.peers true to GoBGP.
func (s *Speaker) reconcilePeers(ctx context.Context, want map[netip.Addr]Peer) error {
	var gone, changed, added []netip.Addr
	for addr := range s.peers {
		if _, ok := want[addr]; !ok {
			gone = append(gone, addr)
		}
	}
	for addr, p := range want {
		old, ok := s.peers[addr]
		switch {
		case !ok:
			added = append(added, addr)
		case !old.equal(p):
			changed = append(changed, addr)
		}
	}
	for _, list := range [][]netip.Addr{gone, changed, added} {
		slices.SortFunc(list, netip.Addr.Compare)
	}

	for _, addr := range gone {
		if err := s.bgp.DeletePeer(ctx, &api.DeletePeerRequest{Address: addr.String()}); err != nil {
			return fmt.Errorf("peer %q: removing: %w", addr.String(), err)
		}
		delete(s.peers, addr)
		s.log.Info("bgp neighbour removed", "peer", addr)
	}
	if err := s.setExports(ctx, want, changed); err != nil {
		return err
	}
	for _, addr := range changed {
		p, old := want[addr], s.peers[addr]
		switch {
		case old.session() != p.session():
			if _, err := s.bgp.UpdatePeer(ctx, &api.UpdatePeerRequest{Peer: apiPeer(p, s.gr)}); err != nil {
				return fmt.Errorf("peer %q: updating: %w", addr.String(), err)
			}
			s.log.Info("bgp neighbour updated", "peer", addr, "asn", p.ASN)
		case !old.Export.equal(p.Export):
			// The routes already sent go again, through the new export.
			req := &api.ResetPeerRequest{Address: addr.String(), Soft: true, Direction: api.ResetPeerRequest_OUT}
			if err := s.bgp.ResetPeer(ctx, req); err != nil {
				return fmt.Errorf("peer %q: sending the routes again with the new export: %w", addr.String(), err)
			}
			s.log.Info("bgp neighbour export changed; routes sent again", "peer", addr)
		}
		s.peers[addr] = p
	}
	if s.stage != nil {
		s.stage.waiting = map[netip.Addr]Peer{}
		for _, addr := range added {
			s.stage.waiting[addr] = want[addr]
		}
		if cur := s.stage.current; cur.IsValid() {
			if _, ok := want[cur]; !ok {
				s.stage.current = netip.Addr{}
			}
		}
		s.publishWaiting()
		return s.stageNext(ctx)
	}
	for _, addr := range added {
		p := want[addr]
		if err := s.bgp.AddPeer(ctx, &api.AddPeerRequest{Peer: apiPeer(p, s.gr)}); err != nil {
			return fmt.Errorf("peer %q: adding: %w", addr.String(), err)
		}
		s.peers[addr] = p
		s.log.Info("bgp neighbour added", "peer", addr, "asn", p.ASN, "port", p.Port)
	}
	return nil
}

// setExports installs the routing policy for want. A route a changed
// neighbour may no longer receive must be withdrawn from it, but GoBGP
// neither sends a withdrawal through an export policy nor keeps what each
// neighbour was sent: such a prefix is withdrawn from every neighbour under
// the old policy and announced again under the new one, a moment later.
func (s *Speaker) setExports(ctx context.Context, want map[netip.Addr]Peer, changed []netip.Addr) error {
	req := routingPolicy(want, s.asn)
	if s.policy != nil && proto.Equal(s.policy, req) {
		return nil
	}
	again := map[netip.Prefix]bool{}
	for _, addr := range changed {
		for _, p := range narrowed(s.peers[addr].Export, want[addr].Export, s.paths) {
			again[p] = true
		}
	}
	for _, p := range sortedPrefixes(again) {
		if err := s.withdraw(ctx, s.paths[p]); err != nil {
			return err
		}
	}
	if err := s.bgp.SetPolicies(ctx, req); err != nil {
		return fmt.Errorf("speaker: installing the export policy: %w", err)
	}
	if s.policy == nil {
		for _, a := range policyAssignments() {
			if err := s.bgp.SetPolicyAssignment(ctx, &api.SetPolicyAssignmentRequest{Assignment: a}); err != nil {
				return fmt.Errorf("speaker: assigning the %s policy: %w", a.GetDirection(), err)
			}
		}
	}
	s.policy = req
	for _, p := range sortedPrefixes(again) {
		if err := s.announce(ctx, s.paths[p]); err != nil {
			return err
		}
		s.log.Info("bgp prefix withdrawn from a neighbour that may no longer receive it, and announced again to the others", "prefix", p)
	}
	return nil
}
