package speakertest

import (
	"context"
	"net/netip"
	"testing"

	"github.com/anyctl/anyctl/agent/speaker"
	api "github.com/osrg/gobgp/v3/api"
)

// Routes is the router's best route for every prefix of family.
func (r *Router) Routes(t testing.TB, family speaker.Family) map[netip.Prefix]Route {
	t.Helper()
	return r.list(t, &api.ListPathRequest{TableType: api.TableType_GLOBAL, Family: apiFamily(family)}, true)
}

// RoutesFrom is what neighbour sent the router in family (its adj-RIB-in),
// whether best or not.
func (r *Router) RoutesFrom(t testing.TB, neighbor netip.Addr, family speaker.Family) map[netip.Prefix]Route {
	t.Helper()
	return r.list(t, &api.ListPathRequest{TableType: api.TableType_ADJ_IN, Name: neighbor.String(), Family: apiFamily(family)}, false)
}

// Route is the router's best route for prefix, if it has one.
func (r *Router) Route(t testing.TB, prefix netip.Prefix) (Route, bool) {
	t.Helper()
	req := &api.ListPathRequest{
		TableType: api.TableType_GLOBAL,
		Family:    apiFamily(speaker.FamilyOf(prefix.Addr())),
		Prefixes:  []*api.TableLookupPrefix{{Prefix: prefix.String(), Type: api.TableLookupPrefix_EXACT}},
	}
	route, ok := r.list(t, req, true)[prefix]
	return route, ok
}

// Count is how many prefixes of family the router holds.
func (r *Router) Count(t testing.TB, family speaker.Family) int {
	t.Helper()
	res, err := r.bgp.GetTable(context.Background(), &api.GetTableRequest{TableType: api.TableType_GLOBAL, Family: apiFamily(family)})
	if err != nil {
		t.Fatalf("router AS%d: reading %s table: %v", r.asn, family, err)
	}
	return int(res.NumDestination)
}

// list runs a ListPath request; with bestOnly it keeps each destination's
// best path, else its first.
func (r *Router) list(t testing.TB, req *api.ListPathRequest, bestOnly bool) map[netip.Prefix]Route {
	t.Helper()
	out := map[netip.Prefix]Route{}
	var bad error
	err := r.bgp.ListPath(context.Background(), req, func(d *api.Destination) {
		for _, p := range d.Paths {
			if bestOnly && !p.Best {
				continue
			}
			route, err := routeFromAPI(p)
			if err != nil {
				bad = err
				return
			}
			out[route.Prefix] = route
			return
		}
	})
	if err == nil {
		err = bad
	}
	if err != nil {
		t.Fatalf("router AS%d: listing %s routes: %v", r.asn, req.TableType, err)
	}
	return out
}
