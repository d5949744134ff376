package validation

import (
	"slices"
	"testing"
)

func TestWarnings(t *testing.T) {
	f := newFixture()
	f.tokyo.Spec.CacheNetworks = []string{"198.51.100.0/24", "198.51.101.0/25", "2001:db8:100::/56", "2001:db8:200::/64", "not a prefix"}
	got := Warnings(wrap(f.tokyo, f.zone))
	want := []string{
		`Pop "tokyo": spec.cacheNetworks[1] "198.51.101.0/25": longer than /24: behind a resolver that shortens ECS to /24 (unbound's default) the DNS server sees only the /24, and cannot tell this network from the rest of it`,
		`Pop "tokyo": spec.cacheNetworks[3] "2001:db8:200::/64": longer than /56: behind a resolver that shortens ECS to /56 (unbound's default) the DNS server sees only the /56, and cannot tell this network from the rest of it`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("Warnings:\n got %q\nwant %q", got, want)
	}
}
