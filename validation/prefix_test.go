package validation

import (
	"errors"
	"net/netip"
	"testing"
)

func TestCheckAnnouncePrefix(t *testing.T) {
	cases := []struct {
		prefix    string
		allowLong bool
		want      string
		is        error
	}{
		{"192.0.2.0/24", false, "", nil},
		{"2001:db8:53::/48", false, "", nil},
		{"10.0.0.0/24", false, "", nil}, // private space is legitimate for internal anycast
		{"192.0.2.1/32", true, "", nil},
		{"192.0.2.1/24", false, `host bits set; did you mean "192.0.2.0/24"?`, ErrHostBits},
		{"0.0.0.0/0", false, "default route: never announced", ErrDefaultRoute},
		{"::/0", false, "default route: never announced", ErrDefaultRoute},
		{"0.1.0.0/16", false, "martian address space: overlaps 0.0.0.0/8 (this network)", ErrMartian},
		{"127.0.0.0/8", false, "martian address space: overlaps 127.0.0.0/8 (loopback)", ErrMartian},
		{"169.254.1.0/24", false, "martian address space: overlaps 169.254.0.0/16 (link-local)", ErrMartian},
		{"224.0.0.0/4", false, "martian address space: overlaps 224.0.0.0/4 (multicast)", ErrMartian},
		{"240.0.0.0/24", false, "martian address space: overlaps 240.0.0.0/4 (reserved)", ErrMartian},
		{"128.0.0.0/1", false, "martian address space: overlaps 169.254.0.0/16 (link-local)", ErrMartian},
		{"::1/128", true, "martian address space: overlaps ::/8 (unspecified, loopback and IPv4-mapped)", ErrMartian},
		{"::ffff:192.0.2.0/120", true, "martian address space: overlaps ::/8 (unspecified, loopback and IPv4-mapped)", ErrMartian},
		{"fe80::/64", true, "martian address space: overlaps fe80::/10 (link-local)", ErrMartian},
		{"ff02::/16", false, "martian address space: overlaps ff00::/8 (multicast)", ErrMartian},
		{"192.0.2.0/25", false, "prefix too long: IPv4 longer than /24 is filtered by most networks", ErrTooLong},
		{"2001:db8:53::/49", false, "prefix too long: IPv6 longer than /48 is filtered by most networks", ErrTooLong},
	}
	for _, tc := range cases {
		t.Run(tc.prefix, func(t *testing.T) {
			err := CheckAnnouncePrefix(netip.MustParsePrefix(tc.prefix), tc.allowLong)
			if got := errString(err); got != tc.want {
				t.Errorf("CheckAnnouncePrefix(%s, %v) = %q, want %q", tc.prefix, tc.allowLong, got, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.is)
			}
		})
	}
	if got := errString(CheckAnnouncePrefix(netip.Prefix{}, false)); got != `invalid CIDR: "invalid Prefix"` {
		t.Errorf("CheckAnnouncePrefix(zero) = %q", got)
	}
}

func TestParsePrefix(t *testing.T) {
	cases := []struct{ in, want, err string }{
		{"203.0.113.0/24", "203.0.113.0/24", ""},
		{"203.0.113.0/23", "", `host bits set; did you mean "203.0.112.0/23"?`},
		{"203.0.113.0", "", `invalid CIDR: want address/length such as "192.0.2.0/24"`},
		{"", "", `invalid CIDR: want address/length such as "192.0.2.0/24"`},
	}
	for _, tc := range cases {
		p, err := ParsePrefix(tc.in)
		if errString(err) != tc.err || (err == nil && p.String() != tc.want) {
			t.Errorf("ParsePrefix(%q) = %v, %q; want %s, %q", tc.in, p, errString(err), tc.want, tc.err)
		}
	}
}

func TestCheckAllowedPrefix(t *testing.T) {
	v4only := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	cases := []struct {
		prefix  string
		allowed []netip.Prefix
		want    string
	}{
		{"192.0.2.0/24", DefaultAllowedPrefixes(), ""},
		{"2001:db8:ffff::/48", DefaultAllowedPrefixes(), ""},
		{"192.0.2.0/23", DefaultAllowedPrefixes(), "outside the allowed address space (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24)"},
		{"2001:db8:53::/48", v4only, "outside the allowed address space: no IPv6 prefixes are allowed"},
		{"192.0.2.0/24", nil, "outside the allowed address space: no IPv4 prefixes are allowed"},
	}
	for _, tc := range cases {
		err := CheckAllowedPrefix(netip.MustParsePrefix(tc.prefix), tc.allowed)
		if got := errString(err); got != tc.want {
			t.Errorf("CheckAllowedPrefix(%s) = %q, want %q", tc.prefix, got, tc.want)
		}
		if err != nil && !errors.Is(err, ErrNotAllowed) {
			t.Errorf("errors.Is(%v, ErrNotAllowed) = false", err)
		}
	}
}
