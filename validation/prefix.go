package validation

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// The longest prefixes announced without an explicit opt-in; longer ones
// are filtered by most networks.
const (
	MaxIPv4PrefixLen = 24
	MaxIPv6PrefixLen = 48
)

// Errors the prefix rules wrap, for callers (such as the agent) that act
// on the kind of refusal.
var (
	ErrInvalidPrefix = errors.New("invalid CIDR")
	ErrHostBits      = errors.New("host bits set")
	ErrDefaultRoute  = errors.New("default route")
	ErrMartian       = errors.New("martian address space")
	ErrTooLong       = errors.New("prefix too long")
	ErrNotAllowed    = errors.New("outside the allowed address space")
)

// martian is address space that must never be announced.
type martian struct {
	prefix netip.Prefix
	what   string
}

// Private ranges (10/8, fc00::/7, ...) are not here: internal anycast may
// legitimately use them.
var martians = []martian{
	{netip.MustParsePrefix("0.0.0.0/8"), "this network"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("::/8"), "unspecified, loopback and IPv4-mapped"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// ParsePrefix parses a prefix written in canonical form. A prefix with host
// bits set is refused with the masked prefix as the suggested fix.
func ParsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%w: want address/length such as \"192.0.2.0/24\"", ErrInvalidPrefix)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("%w; did you mean %q?", ErrHostBits, m.String())
	}
	return p, nil
}

// CheckAnnouncePrefix refuses a prefix no PoP may announce: host bits set, a
// default route, martian address space, or longer than /24 (IPv4) or /48
// (IPv6) unless allowLong.
func CheckAnnouncePrefix(p netip.Prefix, allowLong bool) error {
	if !p.IsValid() {
		return fmt.Errorf("%w: %q", ErrInvalidPrefix, p.String())
	}
	if m := p.Masked(); m != p {
		return fmt.Errorf("%w; did you mean %q?", ErrHostBits, m.String())
	}
	if p.Bits() == 0 {
		return fmt.Errorf("%w: never announced", ErrDefaultRoute)
	}
	for _, m := range martians {
		if p.Overlaps(m.prefix) {
			return fmt.Errorf("%w: overlaps %s (%s)", ErrMartian, m.prefix, m.what)
		}
	}
	if allowLong {
		return nil
	}
	if p.Addr().Is4() && p.Bits() > MaxIPv4PrefixLen {
		return fmt.Errorf("%w: IPv4 longer than /%d is filtered by most networks", ErrTooLong, MaxIPv4PrefixLen)
	}
	if p.Addr().Is6() && p.Bits() > MaxIPv6PrefixLen {
		return fmt.Errorf("%w: IPv6 longer than /%d is filtered by most networks", ErrTooLong, MaxIPv6PrefixLen)
	}
	return nil
}

// CheckAllowedPrefix refuses a prefix that is not inside one of allowed.
func CheckAllowedPrefix(p netip.Prefix, allowed []netip.Prefix) error {
	var family []string
	for _, a := range allowed {
		if a.Addr().Is4() != p.Addr().Is4() {
			continue
		}
		if a.Bits() <= p.Bits() && a.Contains(p.Addr()) {
			return nil
		}
		family = append(family, a.String())
	}
	if len(family) == 0 {
		fam := "IPv6"
		if p.Addr().Is4() {
			fam = "IPv4"
		}
		return fmt.Errorf("%w: no %s prefixes are allowed", ErrNotAllowed, fam)
	}
	return fmt.Errorf("%w (%s)", ErrNotAllowed, strings.Join(family, ", "))
}
