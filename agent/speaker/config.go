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
	// ConnectRetry is the wait between connection attempts; 0 means 1s.
	// GoBGP counts it in whole seconds, at least one.
	ConnectRetry time.Duration
}

const (
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
	_, err := normalizePeers(c.Peers)
	return err
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
	return p.session() == q.session() && p.MaxPrefixes == q.MaxPrefixes
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
}

func (p Peer) session() sessionKey {
	return sessionKey{
		address: p.Address, localAddress: p.LocalAddress, port: p.Port, asn: p.ASN,
		holdTime: p.HoldTime, retry: p.ConnectRetry, password: p.Password,
		multihopTTL: p.MultihopTTL,
		ipv4:        p.hasFamily(IPv4Unicast), ipv6: p.hasFamily(IPv6Unicast),
	}
}
