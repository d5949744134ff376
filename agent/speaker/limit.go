package speaker

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// PrefixLimitError says that a set was refused because a peer would receive
// more prefixes than its MaxPrefixes.
type PrefixLimitError struct {
	Peer  netip.Addr
	Limit int
	// Count is how many prefixes the peer would receive.
	Count int
	// Excess are the prefixes past the limit, in address order.
	Excess []netip.Prefix
}

func (e *PrefixLimitError) Error() string {
	const show = 5
	var b strings.Builder
	fmt.Fprintf(&b, "peer %q: field MaxPrefixes %q: %d prefixes would be announced, %d over the cap (",
		e.Peer.String(), fmt.Sprint(e.Limit), e.Count, len(e.Excess))
	for i, p := range e.Excess {
		if i == show {
			fmt.Fprintf(&b, ", and %d more", len(e.Excess)-show)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.String())
	}
	b.WriteString("); the previous set stays announced: announce fewer prefixes or raise the cap")
	return b.String()
}

// checkLimits refuses a combination of peers and announcements under which
// a capped peer would receive more prefixes than its cap. A peer receives
// every announced prefix of the families it negotiates that its export
// lets through. Peers are checked
// in address order, so the error is deterministic.
func checkLimits(peers map[netip.Addr]Peer, paths map[netip.Prefix]Announcement) error {
	var capped []netip.Addr
	for addr, p := range peers {
		if p.MaxPrefixes > 0 {
			capped = append(capped, addr)
		}
	}
	if len(capped) == 0 {
		return nil
	}
	slices.SortFunc(capped, netip.Addr.Compare)
	prefixes := sortedPrefixes(paths)
	for _, addr := range capped {
		p := peers[addr]
		var sent []netip.Prefix
		for _, pfx := range prefixes {
			if p.hasFamily(FamilyOf(pfx.Addr())) && p.Export.sends(pfx) {
				sent = append(sent, pfx)
			}
		}
		if len(sent) > p.MaxPrefixes {
			return &PrefixLimitError{Peer: addr, Limit: p.MaxPrefixes, Count: len(sent), Excess: sent[p.MaxPrefixes:]}
		}
	}
	return nil
}
