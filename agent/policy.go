package agent

import (
	"fmt"
	"net/netip"

	"github.com/anyctl/anyctl/validation"
)

// Policy is the PoP's local origination policy. It is the last word on what
// the PoP announces: a compromised or buggy controller cannot widen it.
type Policy struct {
	// Allowed is the address space this PoP may announce.
	Allowed []netip.Prefix
	// AllowLong permits IPv4 longer than /24 and IPv6 longer than /48.
	AllowLong bool
	// MaxPerPeer caps the prefixes announced to each peer.
	MaxPerPeer int
}

// Check says why a prefix may not be announced, or nil when it may: default
// routes, martians and over-long prefixes are refused by the shared rules,
// then anything outside the local allowlist.
func (p *Policy) Check(pfx netip.Prefix) error {
	if err := validation.CheckAnnouncePrefix(pfx, p.AllowLong); err != nil {
		return err
	}
	for _, a := range p.Allowed {
		if a.Bits() <= pfx.Bits() && a.Contains(pfx.Addr()) {
			return nil
		}
	}
	return fmt.Errorf("outside the local allowlist %v", p.Allowed)
}
