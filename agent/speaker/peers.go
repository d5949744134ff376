package speaker

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	api "github.com/osrg/gobgp/v3/api"
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
	for _, addr := range changed {
		p := want[addr]
		if s.peers[addr].session() != p.session() {
			if _, err := s.bgp.UpdatePeer(ctx, &api.UpdatePeerRequest{Peer: apiPeer(p)}); err != nil {
				return fmt.Errorf("peer %q: updating: %w", addr.String(), err)
			}
			s.log.Info("bgp neighbour updated", "peer", addr, "asn", p.ASN)
		}
		s.peers[addr] = p
	}
	for _, addr := range added {
		p := want[addr]
		if err := s.bgp.AddPeer(ctx, &api.AddPeerRequest{Peer: apiPeer(p)}); err != nil {
			return fmt.Errorf("peer %q: adding: %w", addr.String(), err)
		}
		s.peers[addr] = p
		s.log.Info("bgp neighbour added", "peer", addr, "asn", p.ASN, "port", p.Port)
	}
	return nil
}
