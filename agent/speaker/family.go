package speaker

import (
	"fmt"
	"net/netip"

	api "github.com/osrg/gobgp/v3/api"
)

// Family is a BGP address family the speaker announces in.
type Family uint8

const (
	// IPv4Unicast is AFI 1, SAFI 1.
	IPv4Unicast Family = iota + 1
	// IPv6Unicast is AFI 2, SAFI 1.
	IPv6Unicast
)

// String is the family's conventional name ("ipv4-unicast").
func (f Family) String() string {
	switch f {
	case IPv4Unicast:
		return "ipv4-unicast"
	case IPv6Unicast:
		return "ipv6-unicast"
	}
	return fmt.Sprintf("family(%d)", uint8(f))
}

// FamilyOf is the unicast family of an address.
func FamilyOf(a netip.Addr) Family {
	if a.Is4() {
		return IPv4Unicast
	}
	return IPv6Unicast
}

func (f Family) valid() bool { return f == IPv4Unicast || f == IPv6Unicast }

// api is the family as GoBGP's API spells it.
func (f Family) api() *api.Family {
	if f == IPv6Unicast {
		return &api.Family{Afi: api.Family_AFI_IP6, Safi: api.Family_SAFI_UNICAST}
	}
	return &api.Family{Afi: api.Family_AFI_IP, Safi: api.Family_SAFI_UNICAST}
}
