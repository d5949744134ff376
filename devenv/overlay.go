package devenv

import (
	"fmt"
	"net/netip"
	"sort"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/proto"
)

// localPlan says where the local stand-ins of the outside world are.
type localPlan struct {
	routerAddr netip.Addr
	routerPort int
	dnsTarget  string // host:port of the DNS stand-in
	httpTarget string // host:port of the HTTP stand-in
}

// popSource is the loopback address the i-th PoP's agent speaks BGP from:
// 127.0.0.11, .12, ... so that the router tells the PoPs apart.
func popSource(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, 0, 0, byte(11 + i)})
}

// localize rewrites a deployment to run on one machine: each PoP peers with
// the in-process router from its own loopback address (and sends IPv6
// routes with its first IPv6 unicast address as next hop), and every health
// check probes a local stand-in of its protocol. It returns the rewritten
// objects and the PoPs' source addresses by name. The input is not changed.
func localize(objs []*v1.Object, plan localPlan) ([]*v1.Object, map[string]netip.Addr, error) {
	out := make([]*v1.Object, 0, len(objs))
	var popNames []string
	for _, o := range objs {
		if p := o.GetPop(); p != nil {
			popNames = append(popNames, p.GetMetadata().GetName())
		}
	}
	sort.Strings(popNames)
	sources := map[string]netip.Addr{}
	for i, n := range popNames {
		sources[n] = popSource(i)
	}
	for _, o := range objs {
		o = proto.Clone(o).(*v1.Object)
		switch r := o.GetResource().(type) {
		case *v1.Object_Pop:
			spec := r.Pop.GetSpec()
			spec.Peers = []*v1.BgpPeer{{
				Address:      plan.routerAddr.String(),
				Port:         uint32(plan.routerPort),
				PeerAsn:      RouterASN,
				LocalAddress: sources[r.Pop.GetMetadata().GetName()].String(),
				Families:     []v1.AddressFamily{v1.AddressFamily_ADDRESS_FAMILY_IPV4_UNICAST, v1.AddressFamily_ADDRESS_FAMILY_IPV6_UNICAST},
				Description:  "in-process upstream router (anyctl dev)",
			}}
			spec.NextHopIpv4 = ""
			spec.NextHopIpv6 = firstIPv6(spec.GetUnicastAddresses())
			if spec.NextHopIpv6 == "" {
				return nil, nil, fmt.Errorf("%s: needs an IPv6 unicast address to use as the IPv6 next hop", resource.RefOf(o))
			}
		case *v1.Object_AnycastService:
			localizeCheck(r.AnycastService.GetSpec().GetHealthCheck(), plan)
		case *v1.Object_Origin:
			localizeCheck(r.Origin.GetSpec().GetHealthCheck(), plan)
		}
		out = append(out, o)
	}
	return out, sources, nil
}

// localizeCheck points a check at the stand-in of its protocol.
func localizeCheck(hc *v1.HealthCheck, plan localPlan) {
	if hc == nil {
		return
	}
	switch hc.GetProtocol() {
	case v1.CheckProtocol_CHECK_PROTOCOL_DNS:
		hc.Target = plan.dnsTarget
	default:
		hc.Protocol = v1.CheckProtocol_CHECK_PROTOCOL_HTTP
		hc.Target = plan.httpTarget
		hc.Path = "/healthz"
		hc.ExpectedStatus = 200
		hc.ExpectBody = ""
	}
}

func firstIPv6(addrs []string) string {
	for _, a := range addrs {
		if ip, err := netip.ParseAddr(a); err == nil && ip.Is6() {
			return a
		}
	}
	return ""
}
