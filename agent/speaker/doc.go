// Package speaker is the PoP agent's BGP speaker: a wrapper around an
// in-process GoBGP server that takes, level-triggered, the full desired set of
// BGP neighbours and of announcements and reconciles GoBGP to them.
//
// SetAnnouncements diffs the desired set against what is announced: a prefix
// that is gone is withdrawn, a new one is announced, and one whose attributes
// changed is re-advertised in place (an implicit replace, never a session
// reset). A nil set means "no change"; an empty, non-nil set withdraws all.
// SetPeers does the same for neighbours: unchanged neighbours are not touched,
// so their sessions stay up.
//
// Every mutation runs on one owner goroutine; calls select on their context
// and on the speaker's shutdown, so they never hang after Stop.
//
// Never a transit: GoBGP's global import policy lets in only the routes the
// speaker originates, so nothing a neighbour sends enters the table that
// feeds the others, and the export policy accepts only the speaker's own
// routes. What a neighbour sends is counted and then dropped; GoBGP holds it
// in the neighbour's adj-RIB-in until the session ends, bounded by
// Peer.MaxPrefixesIn (one more closes the session).
//
// Per-neighbour exports (Peer.Export) add communities, set a MED, prepend,
// set the next hop, or send only some prefixes, as statements of the export
// policy matched on the neighbour sent to. A change of export sends the
// neighbour's routes again in place; a prefix a neighbour may no longer
// receive is withdrawn from every neighbour and announced again to the
// others at once (GoBGP cannot withdraw from one neighbour through policy).
//
// Stop closes each session with Cease, administrative shutdown, and an
// RFC 8203 shutdown communication. With GracefulRestart, a process that
// exits without Stop leaves its routes at peers that support RFC 4724 for
// the restart time; the next start with Restarting set sends them again,
// then End-of-RIB.
//
// Origination safety: a Peer's MaxPrefixes caps what is announced to it.
// GoBGP announces one global table to every neighbour that negotiated the
// prefix's family, so the cap is enforced on the whole set: a desired set (or
// a peer set) under which some capped peer would receive more prefixes than
// its cap is refused whole with a *PrefixLimitError, and the previous set stays
// announced.
//
// Attributes as the upstream router sees them:
//   - Next hop: a zero Announcement.NextHop is sent as the session's own local
//     address ("next-hop self"), per session and of the session's family,
//     unless the peer's Export sets one for the family.
//     Announce IPv6 prefixes over IPv6 sessions and IPv4 prefixes over IPv4
//     sessions, or give an explicit next hop of the prefix's family.
//   - AS path: the local ASN appears 1+Prepend times on eBGP sessions.
//     GoBGP does not send a path carrying the local ASN to iBGP neighbours, so
//     prepends are meant for eBGP upstreams.
//   - Communities and large communities are sent sorted and de-duplicated;
//     GracefulShutdown (65535:0, RFC 8326) is an ordinary community here.
//
// TCP MD5 passwords work on sessions the speaker dials. A speaker that also
// listens (ListenPort >= 0) can check passwords on incoming sessions only in a
// binary built with GODEBUG multipathtcp=0: Go listens with MPTCP by default
// and Linux refuses MD5 keys on MPTCP sockets (GoBGP then logs "failed to set
// md5" and such sessions never come up).
//
// GoBGP's own log lines are passed to the configured slog.Logger at warning
// level and above; the ones that say why a session is not up (a failed
// connection, a NOTIFICATION) are kept per neighbour (PeerState.LastProblem).
// GoBGP sends the host's name in the FQDN capability (RFC draft
// "hostname capability") and v3.37.0 has no way to change or drop it. GoBGP's event loop has no way to stop, so each Speaker
// leaves one idle goroutine behind after Stop.
package speaker
