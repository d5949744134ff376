package speakertest

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/anyctl/anyctl/agent/speaker"
	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
)

// Originate makes the router originate prefix with nextHop, and send it to
// its neighbours with that next hop unchanged, as a transit sends a route
// whose next hop is routable (on loopback a next-hop-self of 127.x would be
// an invalid next hop, which a receiving speaker keeps but never exports,
// so a leak test would pass for the wrong reason).
func (r *Router) Originate(t testing.TB, prefix netip.Prefix, nextHop netip.Addr) {
	t.Helper()
	ctx := context.Background()
	if !r.originating {
		policy := &api.SetPoliciesRequest{
			Policies: []*api.Policy{{Name: "originated-unchanged", Statements: []*api.Statement{{
				Name:       "keep-next-hop",
				Conditions: &api.Conditions{RouteType: api.Conditions_ROUTE_TYPE_LOCAL},
				Actions:    &api.Actions{Nexthop: &api.NexthopAction{Unchanged: true}, RouteAction: api.RouteAction_ACCEPT},
			}}}},
			Assignments: []*api.PolicyAssignment{{Name: "global", Direction: api.PolicyDirection_EXPORT,
				DefaultAction: api.RouteAction_ACCEPT, Policies: []*api.Policy{{Name: "originated-unchanged"}}}},
		}
		if err := r.bgp.SetPolicies(ctx, policy); err != nil {
			t.Fatalf("router AS%d: export policy for originated routes: %v", r.asn, err)
		}
		r.originating = true
	}
	var nlri bgp.AddrPrefixInterface
	var hop bgp.PathAttributeInterface
	if speaker.FamilyOf(prefix.Addr()) == speaker.IPv6Unicast {
		nlri = bgp.NewIPv6AddrPrefix(uint8(prefix.Bits()), prefix.Addr().String())
		hop = bgp.NewPathAttributeMpReachNLRI(nextHop.String(), []bgp.AddrPrefixInterface{nlri})
	} else {
		nlri = bgp.NewIPAddrPrefix(uint8(prefix.Bits()), prefix.Addr().String())
		hop = bgp.NewPathAttributeNextHop(nextHop.String())
	}
	attrs := []bgp.PathAttributeInterface{bgp.NewPathAttributeOrigin(bgp.BGP_ORIGIN_ATTR_TYPE_IGP), hop}
	path, err := apiutil.NewPath(nlri, false, attrs, time.Now())
	if err != nil {
		t.Fatalf("router AS%d: encoding %s: %v", r.asn, prefix, err)
	}
	if _, err := r.bgp.AddPath(ctx, &api.AddPathRequest{TableType: api.TableType_GLOBAL, Path: path}); err != nil {
		t.Fatalf("router AS%d: originating %s: %v", r.asn, prefix, err)
	}
}
