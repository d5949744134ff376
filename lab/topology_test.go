package lab

import (
	"fmt"
	"strings"
)

// The lab's addresses and routers, as deploy/lab/lab.sh builds them. PoP N
// (tokyo 1, london 2, newyork 3) is .2 and ::2 on its links to the two
// routers, which are .1 and ::1: 10.100.N.0/30 and 2001:db8:100:N::/64 to
// FRR, 10.101.N.0/30 and 2001:db8:101:N::/64 to BIRD.

// pops are the lab's PoPs, nearest to the clients first.
var pops = []string{"tokyo", "london", "newyork"}

// popASN is the PoPs' one AS.
const popASN = "64512"

// family is one of the two IP versions the service is reached over.
type family struct {
	name    string // "IPv4"
	version string // "4": lab.sh probe's argument, ip's -4
	anycast string // the service's address
	prefix  string // the anycast prefix the PoPs announce
}

var (
	ipv4 = family{name: "IPv4", version: "4", anycast: "192.0.2.1", prefix: "192.0.2.0/24"}
	ipv6 = family{name: "IPv6", version: "6", anycast: "2001:db8:53::1", prefix: "2001:db8:53::/48"}
)

// upstream is one of the two routers the PoPs peer with, with its client.
type upstream struct {
	name       string // "FRR"
	asn        string
	ns         string // namespace, without the lab's prefix
	client     string // namespace of the client behind it
	net4, net6 string // its links: net4.N.0/30 and net6:N::/64
	own4, own6 string // the prefixes it originates to the PoPs
}

var (
	frr = upstream{name: "FRR", asn: "64496", ns: "router", client: "client",
		net4: "10.100", net6: "2001:db8:100", own4: "10.99.0.0/16", own6: "2001:db8:99::/48"}
	bird = upstream{name: "BIRD", asn: "64497", ns: "router2", client: "client2",
		net4: "10.101", net6: "2001:db8:101", own4: "10.98.0.0/16", own6: "2001:db8:98::/48"}
	upstreams = []upstream{frr, bird}
)

func (u upstream) String() string { return fmt.Sprintf("%s (AS %s)", u.name, u.asn) }

// popAddr is pop's address on its link to u, in f.
func (u upstream) popAddr(f family, pop string) string {
	n := popNumber(pop)
	if f == ipv6 {
		return fmt.Sprintf("%s:%d::2", u.net6, n)
	}
	return fmt.Sprintf("%s.%d.2", u.net4, n)
}

// routerAddr is u's address on its link to pop, in f: the PoP's peer.
func (u upstream) routerAddr(f family, pop string) string {
	n := popNumber(pop)
	if f == ipv6 {
		return fmt.Sprintf("%s:%d::1", u.net6, n)
	}
	return fmt.Sprintf("%s.%d.1", u.net4, n)
}

// own is the prefix u originates in f.
func (u upstream) own(f family) string {
	if f == ipv6 {
		return u.own6
	}
	return u.own4
}

// other is the upstream that is not u.
func (u upstream) other() upstream {
	if u == frr {
		return bird
	}
	return frr
}

// popNumber is the N of pop's links.
func popNumber(pop string) int {
	for i, p := range pops {
		if p == pop {
			return i + 1
		}
	}
	panic("lab: unknown PoP " + pop)
}

// vantage is how a client reaches the service: through one upstream, over
// one family.
type vantage struct {
	up  upstream
	fam family
}

func (v vantage) String() string { return v.up.name + " " + v.fam.name }

// popAddr is pop's address as v's router sees it.
func (v vantage) popAddr(pop string) string { return v.up.popAddr(v.fam, pop) }

// frr4 is the original lab's one vantage point: client, FRR, IPv4.
var frr4 = vantage{frr, ipv4}

// vantages are all four ways to the service.
var vantages = []vantage{frr4, {frr, ipv6}, {bird, ipv4}, {bird, ipv6}}

// popAddr is each PoP's address on its IPv4 link to FRR.
var popAddr = func() map[string]string {
	m := map[string]string{}
	for _, p := range pops {
		m[p] = frr4.popAddr(p)
	}
	return m
}()

// popByAddr is the PoP with address addr on any of its links, or addr
// itself when none has it.
func popByAddr(addr string) string {
	for _, v := range vantages {
		for _, p := range pops {
			if strings.EqualFold(v.popAddr(p), addr) {
				return p
			}
		}
	}
	return addr
}
