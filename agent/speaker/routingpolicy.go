package speaker

import (
	"fmt"
	"net/netip"
	"slices"

	api "github.com/osrg/gobgp/v3/api"
)

// The speaker is never a transit: GoBGP's global import policy rejects
// every route a neighbour sends, so nothing learned enters the table the
// neighbours are fed from, and the global export policy accepts only routes
// the speaker originated itself (route type local), whatever else might
// reach that table. Per-neighbour exports are statements of that export
// policy, matched on the neighbour being sent to.
const (
	exportPolicyName = "anyctl-export"
	importPolicyName = "anyctl-import"
	globalRIB        = "global"
)

// originated matches the routes the speaker originated itself.
func originated(name string) *api.Statement {
	return &api.Statement{
		Name:       name,
		Conditions: &api.Conditions{RouteType: api.Conditions_ROUTE_TYPE_LOCAL},
		Actions:    &api.Actions{RouteAction: api.RouteAction_ACCEPT},
	}
}

// routingPolicy is the GoBGP policy for a set of normalized peers, in
// address order so that equal sets give equal requests.
func routingPolicy(peers map[netip.Addr]Peer, localASN uint32) *api.SetPoliciesRequest {
	req := &api.SetPoliciesRequest{}
	var stmts []*api.Statement
	addrs := make([]netip.Addr, 0, len(peers))
	for a := range peers {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	for i, a := range addrs {
		sets, s := peerStatements(fmt.Sprintf("peer%d", i), a, peers[a].Export, localASN)
		req.DefinedSets = append(req.DefinedSets, sets...)
		stmts = append(stmts, s...)
	}
	stmts = append(stmts, originated("originated"))
	req.Policies = []*api.Policy{
		{Name: exportPolicyName, Statements: stmts},
		// GoBGP passes the speaker's own routes through the import policy
		// too: they are the only ones let in.
		{Name: importPolicyName, Statements: []*api.Statement{originated("originated-in")}},
	}
	return req
}

// policyAssignments are the global table's import and export assignments:
// nothing in, only what the export policy accepts out. GoBGP's SetPolicies
// replaces definitions but keeps assignments, so these are set once.
func policyAssignments() []*api.PolicyAssignment {
	return []*api.PolicyAssignment{
		{Name: globalRIB, Direction: api.PolicyDirection_IMPORT, DefaultAction: api.RouteAction_REJECT, Policies: []*api.Policy{{Name: importPolicyName}}},
		{Name: globalRIB, Direction: api.PolicyDirection_EXPORT, DefaultAction: api.RouteAction_REJECT, Policies: []*api.Policy{{Name: exportPolicyName}}},
	}
}

// peerStatements are the defined sets and statements that shape what the
// neighbour at addr receives: first the prefixes it must not get are
// rejected, then its attributes are applied to the rest, which the final
// "originated" statement accepts.
func peerStatements(name string, addr netip.Addr, e Export, localASN uint32) ([]*api.DefinedSet, []*api.Statement) {
	neighbor := &api.DefinedSet{DefinedType: api.DefinedType_NEIGHBOR, Name: name, List: []string{netip.PrefixFrom(addr, addr.BitLen()).String()}}
	sets := []*api.DefinedSet{neighbor}
	match := func() *api.Conditions {
		return &api.Conditions{NeighborSet: &api.MatchSet{Type: api.MatchSet_ANY, Name: name}}
	}
	var stmts []*api.Statement
	if e.Only != nil {
		for _, f := range []Family{IPv4Unicast, IPv6Unicast} {
			c := match()
			c.AfiSafiIn = []*api.Family{f.api()}
			var list []*api.Prefix
			for _, p := range e.Only {
				if FamilyOf(p.Addr()) == f {
					list = append(list, &api.Prefix{IpPrefix: p.String(), MaskLengthMin: uint32(p.Bits()), MaskLengthMax: uint32(p.Bits())})
				}
			}
			if len(list) > 0 {
				set := fmt.Sprintf("%s-only-%s", name, f)
				sets = append(sets, &api.DefinedSet{DefinedType: api.DefinedType_PREFIX, Name: set, Prefixes: list})
				c.PrefixSet = &api.MatchSet{Type: api.MatchSet_INVERT, Name: set}
			}
			stmts = append(stmts, &api.Statement{
				Name:       fmt.Sprintf("%s-only-%s", name, f),
				Conditions: c,
				Actions:    &api.Actions{RouteAction: api.RouteAction_REJECT},
			})
		}
	}
	if act, ok := exportActions(e, localASN); ok {
		c := match()
		c.RouteType = api.Conditions_ROUTE_TYPE_LOCAL
		stmts = append(stmts, &api.Statement{Name: name + "-attributes", Conditions: c, Actions: act})
	}
	for _, nh := range []netip.Addr{e.NextHopIPv4, e.NextHopIPv6} {
		if !nh.IsValid() {
			continue
		}
		f := FamilyOf(nh)
		c := match()
		c.RouteType = api.Conditions_ROUTE_TYPE_LOCAL
		c.AfiSafiIn = []*api.Family{f.api()}
		stmts = append(stmts, &api.Statement{
			Name:       fmt.Sprintf("%s-next-hop-%s", name, f),
			Conditions: c,
			Actions:    &api.Actions{Nexthop: &api.NexthopAction{Address: nh.String()}},
		})
	}
	return sets, stmts
}

// exportActions are the attribute changes of an export, and whether there
// are any. They leave the route's fate to the statements after them.
func exportActions(e Export, localASN uint32) (*api.Actions, bool) {
	act := &api.Actions{}
	any := false
	if len(e.Communities) > 0 {
		cs := make([]string, len(e.Communities))
		for i, c := range e.Communities {
			cs[i] = FormatCommunity(c)
		}
		act.Community = &api.CommunityAction{Type: api.CommunityAction_ADD, Communities: cs}
		any = true
	}
	if len(e.LargeCommunities) > 0 {
		cs := make([]string, len(e.LargeCommunities))
		for i, c := range e.LargeCommunities {
			cs[i] = c.String()
		}
		act.LargeCommunity = &api.CommunityAction{Type: api.CommunityAction_ADD, Communities: cs}
		any = true
	}
	if e.MED != nil {
		act.Med = &api.MedAction{Type: api.MedAction_REPLACE, Value: int64(*e.MED)}
		any = true
	}
	if e.Prepend > 0 {
		act.AsPrepend = &api.AsPrependAction{Asn: localASN, Repeat: uint32(e.Prepend)}
		any = true
	}
	return act, any
}
