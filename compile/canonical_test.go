package compile

import (
	"slices"
	"testing"
)

func TestCanonicalForms(t *testing.T) {
	tests := []struct {
		name string
		fn   func([]string) []string
		in   []string
		want []string
	}{
		{"prefixes empty", canonicalPrefixes, nil, nil},
		{"prefixes masked and deduplicated", canonicalPrefixes, []string{"198.51.100.7/24", "198.51.100.0/24"}, []string{"198.51.100.0/24"}},
		{"prefixes IPv4 before IPv6", canonicalPrefixes, []string{"2001:db8::/32", "10.0.0.0/8"}, []string{"10.0.0.0/8", "2001:db8::/32"}},
		{"prefixes by address not text", canonicalPrefixes, []string{"9.0.0.0/8", "10.0.0.0/8"}, []string{"9.0.0.0/8", "10.0.0.0/8"}},
		{"prefixes shorter first", canonicalPrefixes, []string{"10.0.0.0/16", "10.0.0.0/8"}, []string{"10.0.0.0/8", "10.0.0.0/16"}},
		{"prefixes IPv6 compressed lower case", canonicalPrefixes, []string{"2001:DB8:0:0::1/48"}, []string{"2001:db8::/48"}},
		{"prefixes unparsable kept last", canonicalPrefixes, []string{"bogus", " 10.0.0.0/8 ", "bogus"}, []string{"10.0.0.0/8", "bogus"}},
		{"communities numeric order", canonicalCommunities, []string{"65000:100", "9:5", "65000:20"}, []string{"9:5", "65000:20", "65000:100"}},
		{"communities deduplicated", canonicalCommunities, []string{"65000:100", "65000:0100"}, []string{"65000:100"}},
		{"communities out of range kept as text", canonicalCommunities, []string{"70000:1", "1:1"}, []string{"1:1", "70000:1"}},
		{"large communities numeric order", canonicalLargeCommunities, []string{"65000:2:1", "4200000000:1:1", "65000:1:10", "65000:1:9"}, []string{"65000:1:9", "65000:1:10", "65000:2:1", "4200000000:1:1"}},
		{"large communities malformed kept", canonicalLargeCommunities, []string{"1:2", "1:2:3"}, []string{"1:2:3", "1:2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.fn(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("got %q from %q, want %q", got, tt.in, tt.want)
			}
		})
	}
}
