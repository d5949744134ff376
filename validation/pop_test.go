package validation

import (
	"strings"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

func TestPopRules(t *testing.T) {
	tokyo := func(edit func(s *v1.PopSpec)) func(f *fixture) []proto.Message {
		return func(f *fixture) []proto.Message {
			edit(f.tokyo.Spec)
			return []proto.Message{f.tokyo}
		}
	}
	peer := func(edit func(p *v1.BgpPeer)) func(f *fixture) []proto.Message {
		return tokyo(func(s *v1.PopSpec) { edit(s.Peers[0]) })
	}
	runApplyCases(t, []applyCase{
		{"spec missing", func(f *fixture) []proto.Message {
			f.tokyo.Spec = nil
			return []proto.Message{f.tokyo}
		}, `Pop "tokyo": spec: required`},
		{"cache network of another PoP", tokyo(func(s *v1.PopSpec) { s.CacheNetworks = append(s.CacheNetworks, "198.51.100.12/32") }),
			`Pop "tokyo": spec.cacheNetworks[1] "198.51.100.12/32": a cache network of Pop "london" too: DNS servers place a network's clients at one PoP, and would pick one by name; list it at one PoP`},
		{"cache network inside another PoP's", tokyo(func(s *v1.PopSpec) { s.CacheNetworks = []string{"2001:db8:1::/64"} }), ``},
		{"location missing", tokyo(func(s *v1.PopSpec) { s.Location = nil }),
			`Pop "tokyo": spec.location: required`},
		{"latitude out of range", tokyo(func(s *v1.PopSpec) { s.Location.Latitude = 91 }),
			`Pop "tokyo": spec.location.latitude "91": outside -90..90`},
		{"longitude out of range", tokyo(func(s *v1.PopSpec) { s.Location.Longitude = -180.5 }),
			`Pop "tokyo": spec.location.longitude "-180.5": outside -180..180`},
		{"unknown country", tokyo(func(s *v1.PopSpec) { s.Location.Country = "XX" }),
			`Pop "tokyo": spec.location.country "XX": unknown country code: want an ISO 3166-1 alpha-2 code such as "JP"`},
		{"lower-case country", tokyo(func(s *v1.PopSpec) { s.Location.Country = "jp" }),
			`Pop "tokyo": spec.location.country "jp": unknown country code; did you mean "JP"?`},
		{"country missing", tokyo(func(s *v1.PopSpec) { s.Location.Country = "" }),
			`Pop "tokyo": spec.location.country: required: an ISO 3166-1 alpha-2 code such as "JP"`},
		{"unknown continent", tokyo(func(s *v1.PopSpec) { s.Location.Continent = "ASIA" }),
			`Pop "tokyo": spec.location.continent "ASIA": unknown continent code: want one of AF AN AS EU NA OC SA`},
		{"continent missing", tokyo(func(s *v1.PopSpec) { s.Location.Continent = "" }),
			`Pop "tokyo": spec.location.continent: required: one of AF AN AS EU NA OC SA`},
		{"country on another continent", tokyo(func(s *v1.PopSpec) { s.Location.Continent = "EU" }),
			`Pop "tokyo": spec.location.continent "EU": country "JP" is in AS, not EU`},
		{"local ASN 0", tokyo(func(s *v1.PopSpec) { s.LocalAsn = 0 }),
			`Pop "tokyo": spec.localAsn: ASN 0 is reserved (RFC 7607)`},
		{"local ASN AS_TRANS", tokyo(func(s *v1.PopSpec) { s.LocalAsn = 23456 }),
			`Pop "tokyo": spec.localAsn: ASN 23456 is AS_TRANS (RFC 6793)`},
		{"local ASN 65535", tokyo(func(s *v1.PopSpec) { s.LocalAsn = 65535 }),
			`Pop "tokyo": spec.localAsn: ASN 65535 is reserved (RFC 7300)`},
		{"local ASN 4294967295", tokyo(func(s *v1.PopSpec) { s.LocalAsn = 4294967295 }),
			`Pop "tokyo": spec.localAsn: ASN 4294967295 is reserved (RFC 7300)`},
		{"router ID missing", tokyo(func(s *v1.PopSpec) { s.RouterId = "" }),
			`Pop "tokyo": spec.routerId: required: an IPv4 address`},
		{"router ID IPv6", tokyo(func(s *v1.PopSpec) { s.RouterId = "2001:db8::1" }),
			`Pop "tokyo": spec.routerId "2001:db8::1": not an IPv4 address: the BGP identifier is 32 bits`},
		{"router ID 0.0.0.0", tokyo(func(s *v1.PopSpec) { s.RouterId = "0.0.0.0" }),
			`Pop "tokyo": spec.routerId "0.0.0.0": 0.0.0.0 is not a valid BGP identifier`},
		{"unicast address invalid", tokyo(func(s *v1.PopSpec) { s.UnicastAddresses[1] = "2001:db8::g" }),
			`Pop "tokyo": spec.unicastAddresses[1] "2001:db8::g": not an IP address`},
		{"unicast address repeated", tokyo(func(s *v1.PopSpec) { s.UnicastAddresses = append(s.UnicastAddresses, "2001:DB8:1::11") }),
			`Pop "tokyo": spec.unicastAddresses[2] "2001:DB8:1::11": duplicate of spec.unicastAddresses[1]`},
		{"unicast address IPv4-mapped", tokyo(func(s *v1.PopSpec) { s.UnicastAddresses[1] = "::ffff:198.51.100.11" }),
			`Pop "tokyo": spec.unicastAddresses[1] "::ffff:198.51.100.11": IPv4-mapped IPv6 address; write "198.51.100.11"`},
		{"cache network with host bits", tokyo(func(s *v1.PopSpec) { s.CacheNetworks = []string{"198.51.100.77/24"} }),
			`Pop "tokyo": spec.cacheNetworks[0] "198.51.100.77/24": host bits set; did you mean "198.51.100.0/24"?`},
		{"cache network not CIDR", tokyo(func(s *v1.PopSpec) { s.CacheNetworks = []string{"198.51.100.77"} }),
			`Pop "tokyo": spec.cacheNetworks[0] "198.51.100.77": invalid CIDR: want address/length such as "192.0.2.0/24"`},
		{"IPv4 next hop is IPv6", tokyo(func(s *v1.PopSpec) { s.NextHopIpv4 = "2001:db8::1" }),
			`Pop "tokyo": spec.nextHopIpv4 "2001:db8::1": not an IPv4 address`},
		{"IPv6 next hop is IPv4", tokyo(func(s *v1.PopSpec) { s.NextHopIpv6 = "198.51.100.11" }),
			`Pop "tokyo": spec.nextHopIpv6 "198.51.100.11": not an IPv6 address`},
		{"peer address invalid", peer(func(p *v1.BgpPeer) { p.Address = "198.51.100.256" }),
			`Pop "tokyo": spec.peers[0].address "198.51.100.256": not an IP address`},
		{"peer address zoned", peer(func(p *v1.BgpPeer) { p.Address = "fe80::1%eth0" }),
			`Pop "tokyo": spec.peers[0].address "fe80::1%eth0": zoned address: drop the %zone`},
		{"peer address multicast", peer(func(p *v1.BgpPeer) { p.Address = "224.0.0.5" }),
			`Pop "tokyo": spec.peers[0].address "224.0.0.5": multicast address`},
		{"family unknown", peer(func(p *v1.BgpPeer) { p.Families[1] = 3 }),
			`Pop "tokyo": spec.peers[0].families[1] "3": unknown address family`},
		{"peer address missing", peer(func(p *v1.BgpPeer) { p.Address = "" }),
			`Pop "tokyo": spec.peers[0].address: required`},
		{"peer port out of range", peer(func(p *v1.BgpPeer) { p.Port = 70000 }),
			`Pop "tokyo": spec.peers[0].port "70000": outside 1..65535 (0 means 179)`},
		{"peer ASN AS_TRANS", peer(func(p *v1.BgpPeer) { p.PeerAsn = 23456 }),
			`Pop "tokyo": spec.peers[0].peerAsn: ASN 23456 is AS_TRANS (RFC 6793)`},
		{"peer ASN missing", peer(func(p *v1.BgpPeer) { p.PeerAsn = 0 }),
			`Pop "tokyo": spec.peers[0].peerAsn: ASN 0 is reserved (RFC 7607)`},
		{"hold time below 3s", peer(func(p *v1.BgpPeer) { p.HoldTime = dur(2 * time.Second) }),
			`Pop "tokyo": spec.peers[0].holdTime "2s": below 3s, the shortest BGP hold time`},
		{"hold time 0", peer(func(p *v1.BgpPeer) { p.HoldTime = dur(0) }),
			`Pop "tokyo": spec.peers[0].holdTime "0s": 0 (no keepalives) is not supported: the agent's BGP speaker always sends keepalives; leave holdTime out for 90s, or give 3s to 65535s`},
		{"peer next hop of the wrong family", peer(func(p *v1.BgpPeer) { p.NextHopIpv6 = "192.0.2.1" }),
			`Pop "tokyo": spec.peers[0].nextHopIpv6 "192.0.2.1": not an IPv6 address`},
		{"peer next hop unspecified", peer(func(p *v1.BgpPeer) { p.NextHopIpv4 = "0.0.0.0" }),
			`Pop "tokyo": spec.peers[0].nextHopIpv4 "0.0.0.0": unspecified address`},
		{"peer inbound cap too high", peer(func(p *v1.BgpPeer) { p.MaxPrefixesIn = 2000000 }),
			`Pop "tokyo": spec.peers[0].maxPrefixesIn "2000000": above 100000: a PoP needs a default route and a few more, not a full table`},
		{"peer announce: bad community, prepend, services", peer(func(p *v1.BgpPeer) {
			p.Announce = &v1.PeerAnnounce{Communities: []string{"1:65536"}, LargeCommunities: []string{"1:2"}, AsPathPrepend: 14, Services: []string{"edge-dns", "nope"}, NoServices: true}
		}), strings.Join([]string{
			`Pop "tokyo": spec.peers[0].announce.asPathPrepend "14": at most 13`,
			`Pop "tokyo": spec.peers[0].announce.communities[0] "1:65536": not ASN:VALUE with both parts in 0..65535`,
			`Pop "tokyo": spec.peers[0].announce.largeCommunities[0] "1:2": not GLOBAL:LOCAL1:LOCAL2 with each part in 0..4294967295`,
			`Pop "tokyo": spec.peers[0].announce.noServices "true": contradicts services: give the services this peer gets, or noServices for none`,
			`Pop "tokyo": spec.peers[0].announce.services[1] "nope": unknown AnycastService`,
		}, "\n")},
		{"IPv6 family with the peer's own IPv6 next hop", tokyo(func(s *v1.PopSpec) {
			s.NextHopIpv6 = ""
			s.Peers[0].NextHopIpv6 = "2001:db8:ffff::1"
		}), ""},
		{"hold time fractional", peer(func(p *v1.BgpPeer) { p.HoldTime = dur(3500 * time.Millisecond) }),
			`Pop "tokyo": spec.peers[0].holdTime "3.5s": not whole seconds`},
		{"hold time too long", peer(func(p *v1.BgpPeer) { p.HoldTime = dur(65536 * time.Second) }),
			`Pop "tokyo": spec.peers[0].holdTime "18h12m16s": above 65535s, the longest BGP hold time`},
		{"multihop TTL above 255", peer(func(p *v1.BgpPeer) { p.MultihopTtl = 256 }),
			`Pop "tokyo": spec.peers[0].multihopTtl "256": above 255`},
		{"local address of the other family", peer(func(p *v1.BgpPeer) { p.LocalAddress = "2001:db8:1::1" }),
			`Pop "tokyo": spec.peers[0].localAddress "2001:db8:1::1": IPv6, but the session address "198.51.100.1" is IPv4: peer address family not matching its session`},
		{"family unspecified", peer(func(p *v1.BgpPeer) { p.Families[1] = v1.AddressFamily_ADDRESS_FAMILY_UNSPECIFIED }),
			`Pop "tokyo": spec.peers[0].families[1] "ADDRESS_FAMILY_UNSPECIFIED": unspecified: use ADDRESS_FAMILY_IPV4_UNICAST or ADDRESS_FAMILY_IPV6_UNICAST`},
		{"family listed twice", peer(func(p *v1.BgpPeer) { p.Families[1] = p.Families[0] }),
			`Pop "tokyo": spec.peers[0].families[1] "ADDRESS_FAMILY_IPV4_UNICAST": listed twice`},
		{"IPv6 family without IPv6 next hop", tokyo(func(s *v1.PopSpec) { s.NextHopIpv6 = "" }),
			`Pop "tokyo": spec.peers[0].families[1] "ADDRESS_FAMILY_IPV6_UNICAST": IPv6 on an IPv4 session needs spec.peers[0].nextHopIpv6 (or spec.nextHopIpv6): a session cannot carry a family it has no next hop for`},
		{"IPv4 family without IPv4 next hop", func(f *fixture) []proto.Message {
			f.saopaulo.Spec.NextHopIpv4 = ""
			return []proto.Message{f.saopaulo}
		}, `Pop "saopaulo": spec.peers[0].families[0] "ADDRESS_FAMILY_IPV4_UNICAST": IPv4 on an IPv6 session needs spec.peers[0].nextHopIpv4 (or spec.nextHopIpv4): a session cannot carry a family it has no next hop for`},
		{"two peers at one address", tokyo(func(s *v1.PopSpec) {
			s.Peers = append(s.Peers, &v1.BgpPeer{Address: "198.51.100.1", PeerAsn: 64501})
		}), `Pop "tokyo": spec.peers[1].address "198.51.100.1": duplicate of spec.peers[0]`},
		{"region change empties a selected region", func(f *fixture) []proto.Message {
			f.london.Spec.Location.Region = "europe"
			return []proto.Message{f.london}
		}, `AnycastService "edge-http": spec.pops.regions[0] "emea": no Pop in this region`},
		{"every problem reported, in path order", tokyo(func(s *v1.PopSpec) {
			s.RouterId = "0.0.0.0"
			s.LocalAsn = 23456
			s.Location.Latitude = -100
		}), strings.Join([]string{
			`Pop "tokyo": spec.localAsn: ASN 23456 is AS_TRANS (RFC 6793)`,
			`Pop "tokyo": spec.location.latitude "-100": outside -90..90`,
			`Pop "tokyo": spec.routerId "0.0.0.0": 0.0.0.0 is not a valid BGP identifier`,
		}, "\n")},
	})
}
