package validation

import "net/netip"

// Options are the operator's settings that validation enforces.
type Options struct {
	// AllowedPrefixes is the operator's address space: every anycast prefix
	// must be inside one of these.
	AllowedPrefixes []netip.Prefix
}

// DefaultAllowedPrefixes returns the documentation ranges (RFC 5737 and
// RFC 3849), the default development setting: 192.0.2.0/24,
// 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32.
func DefaultAllowedPrefixes() []netip.Prefix {
	return []netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/24"),
		netip.MustParsePrefix("2001:db8::/32"),
	}
}
