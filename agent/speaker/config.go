package speaker

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"
)

// Config is what Start needs to run a speaker.
type Config struct {
	// ASN is the local autonomous system number.
	ASN uint32
	// RouterID is the BGP identifier; it must be an IPv4 address.
	RouterID netip.Addr
	// ListenPort is the TCP port accepting incoming sessions: -1 does not
	// listen (the agent only dials out), 0 means 179.
	ListenPort int32
	// Peers are the neighbours to start with; see SetPeers.
	Peers []Peer
	// Logger receives session changes and GoBGP's warnings; nil discards.
	Logger *slog.Logger
	// GracefulRestart, when Enabled, negotiates RFC 4724 graceful restart
	// with every neighbour.
	GracefulRestart GracefulRestart
}

// GracefulRestart is the speaker's RFC 4724 graceful restart. Peers that
// support it keep the speaker's routes for RestartTime when its sessions
// drop without a NOTIFICATION (the process exited), and drop the ones it
// does not send again before its End-of-RIB once it is back.
type GracefulRestart struct {
	Enabled bool
	// RestartTime is how long peers keep the routes; 0 means 120s, at most
	// 4095s (whole seconds).
	RestartTime time.Duration
	// Restarting says this start follows a restart: the speaker sets the
	// Restart State bit and sends its routes, then End-of-RIB, once the
	// neighbours have sent theirs (or after RestartTime/2 at most).
	Restarting bool
}

// Peer is one BGP neighbour. A neighbour is identified by its Address.
type Peer struct {
	Address netip.Addr
	// Port is the neighbour's TCP port; 0 means 179.
	Port uint16
	ASN  uint32
	// HoldTime is the proposed hold time, 0 means 90s, else at least 3s
	// (whole seconds). The keepalive interval is a third of it.
	HoldTime time.Duration
	// Password is the TCP MD5 signature key (RFC 2385); empty for none.
	Password string
	// MultihopTTL enables eBGP multihop with that TTL; 0 = directly connected.
	MultihopTTL uint8
	// LocalAddress sources the session; optional, of Address's family.
	LocalAddress netip.Addr
	// Families negotiated on the session; empty means Address's own family.
	Families []Family
	// MaxPrefixes caps the prefixes announced to this neighbour; 0 = no cap.
	MaxPrefixes int
	// MaxPrefixesIn caps the prefixes the neighbour may send per family:
	// one more closes the session (Cease, maximum number of prefixes
	// reached). The speaker keeps nothing it learns, but GoBGP holds what a
	// neighbour sent until the session ends, so the cap bounds memory.
	// 0 means DefaultMaxPrefixesIn.
	MaxPrefixesIn int
	// Export shapes what this neighbour receives.
	Export Export
	// ConnectRetry is the wait between connection attempts; 0 means 1s.
	// GoBGP counts it in whole seconds, at least one.
	ConnectRetry time.Duration
}

// DefaultMaxPrefixesIn is the inbound cap of a Peer that sets none: enough
// for the default routes and the few more-specifics an upstream may send a
// PoP, far too few for a full table.
const DefaultMaxPrefixesIn = 1000

const (
	defaultRestartTime  = 120 * time.Second
	maxRestartTime      = 4095 * time.Second
	defaultPort         = 179
	defaultHoldTime     = 90 * time.Second
	minHoldTime         = 3 * time.Second
	defaultConnectRetry = time.Second
)

// ErrStopped is returned by calls on a Speaker after Stop.
var ErrStopped = errors.New("speaker: stopped")

func (c Config) validate() error {
	if c.ASN == 0 {
		return fmt.Errorf("speaker config: field ASN is 0: set the local ASN")
	}
	if !c.RouterID.Is4() {
		return fmt.Errorf("speaker config: field RouterID %q is not an IPv4 address", c.RouterID.String())
	}
	if c.ListenPort < -1 || c.ListenPort > 65535 {
		return fmt.Errorf("speaker config: field ListenPort %q is out of range: use -1 (do not listen) or 0..65535", fmt.Sprint(c.ListenPort))
	}
	if gr := c.GracefulRestart; gr.RestartTime < 0 || gr.RestartTime > maxRestartTime {
		return fmt.Errorf("speaker config: field GracefulRestart.RestartTime %q is outside 0..%s", gr.RestartTime.String(), maxRestartTime)
	}
	_, err := normalizePeers(c.Peers)
	return err
}

// restartSeconds is the restart time sent in the capability.
func (g GracefulRestart) restartSeconds() uint32 {
	if g.RestartTime == 0 {
		return uint32(defaultRestartTime / time.Second)
	}
	return uint32(g.RestartTime / time.Second)
}

// normalized fills defaults so that two Peers that mean the same compare
// equal, and checks every field.
func (p Peer) normalized() (Peer, error) {
	name := p.Address.String()
	if !p.Address.IsValid() || p.Address.IsUnspecified() {
		return p, fmt.Errorf("peer %q: field Address is not a usable address", name)
	}
	if p.Address.Zone() != "" || p.Address.Is4In6() {
		return p, fmt.Errorf("peer %q: field Address must be plain IPv4 or IPv6, without zone or IPv4 mapping", name)
	}
	if p.ASN == 0 {
		return p, fmt.Errorf("peer %q: field ASN is 0: set the neighbour's ASN", name)
	}
	if p.Port == 0 {
		p.Port = defaultPort
	}
	switch {
	case p.HoldTime == 0:
		p.HoldTime = defaultHoldTime
	case p.HoldTime < minHoldTime:
		return p, fmt.Errorf("peer %q: field HoldTime %q is below the 3s minimum", name, p.HoldTime.String())
	}
	p.HoldTime = p.HoldTime.Truncate(time.Second)
	if p.LocalAddress.IsValid() && FamilyOf(p.LocalAddress) != FamilyOf(p.Address) {
		return p, fmt.Errorf("peer %q: field LocalAddress %q is not of the neighbour address's family", name, p.LocalAddress.String())
	}
	if p.MaxPrefixes < 0 {
		return p, fmt.Errorf("peer %q: field MaxPrefixes %q is negative: use 0 for no cap", name, fmt.Sprint(p.MaxPrefixes))
	}
	switch {
	case p.MaxPrefixesIn < 0:
		return p, fmt.Errorf("peer %q: field MaxPrefixesIn %q is negative: use 0 for the default of %d", name, fmt.Sprint(p.MaxPrefixesIn), DefaultMaxPrefixesIn)
	case p.MaxPrefixesIn == 0:
		p.MaxPrefixesIn = DefaultMaxPrefixesIn
	}
	exp, err := p.Export.normalized(name)
	if err != nil {
		return p, err
	}
	p.Export = exp
	switch {
	case p.ConnectRetry < 0:
		return p, fmt.Errorf("peer %q: field ConnectRetry %q is negative", name, p.ConnectRetry.String())
	case p.ConnectRetry <= time.Second:
		p.ConnectRetry = defaultConnectRetry
	}
	p.ConnectRetry = p.ConnectRetry.Truncate(time.Second)
	fams, err := normalizeFamilies(name, p.Address, p.Families)
	if err != nil {
		return p, err
	}
	p.Families = fams
	return p, nil
}

// normalizeFamilies returns the families in canonical order, defaulting to
// the address's own.
func normalizeFamilies(name string, addr netip.Addr, in []Family) ([]Family, error) {
	if len(in) == 0 {
		return []Family{FamilyOf(addr)}, nil
	}
	var seen [IPv6Unicast + 1]bool
	for _, f := range in {
		if !f.valid() {
			return nil, fmt.Errorf("peer %q: field Families has unknown family %q", name, f.String())
		}
		if seen[f] {
			return nil, fmt.Errorf("peer %q: field Families lists %q twice", name, f.String())
		}
		seen[f] = true
	}
	var out []Family
	for _, f := range []Family{IPv4Unicast, IPv6Unicast} {
		if seen[f] {
			out = append(out, f)
		}
	}
	return out, nil
}

// normalizePeers checks a full peer set and keys it by address.
func normalizePeers(peers []Peer) (map[netip.Addr]Peer, error) {
	out := make(map[netip.Addr]Peer, len(peers))
	for _, p := range peers {
		n, err := p.normalized()
		if err != nil {
			return nil, err
		}
		if _, dup := out[n.Address]; dup {
			return nil, fmt.Errorf("peer %q: listed twice: a neighbour is identified by its address", n.Address.String())
		}
		out[n.Address] = n
	}
	return out, nil
}

func (p Peer) hasFamily(f Family) bool {
	for _, pf := range p.Families {
		if pf == f {
			return true
		}
	}
	return false
}

// equal reports whether two normalized peers are the same.
func (p Peer) equal(q Peer) bool {
	return p.session() == q.session() && p.MaxPrefixes == q.MaxPrefixes && p.Export.equal(q.Export)
}

// sessionKey is what GoBGP sees of a peer: a change in it is a change
// to push to GoBGP.
type sessionKey struct {
	address, localAddress netip.Addr
	port                  uint16
	asn                   uint32
	holdTime, retry       time.Duration
	password              string
	multihopTTL           uint8
	ipv4, ipv6            bool
	maxPrefixesIn         int
}

func (p Peer) session() sessionKey {
	return sessionKey{
		address: p.Address, localAddress: p.LocalAddress, port: p.Port, asn: p.ASN,
		holdTime: p.HoldTime, retry: p.ConnectRetry, password: p.Password,
		multihopTTL: p.MultihopTTL, maxPrefixesIn: p.MaxPrefixesIn,
		ipv4: p.hasFamily(IPv4Unicast), ipv6: p.hasFamily(IPv6Unicast),
	}
}
