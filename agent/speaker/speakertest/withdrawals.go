package speakertest

import (
	"context"
	"net/netip"
	"sync"
	"testing"

	api "github.com/osrg/gobgp/v3/api"
	"github.com/osrg/gobgp/v3/pkg/apiutil"
)

// Changes counts what the router's best path for one prefix went through,
// as GoBGP reports each change of a best path.
type Changes struct {
	mu        sync.Mutex // guards the counts
	withdrawn int
	updated   int
}

// Withdrawn is how many times the prefix lost its best path.
func (c *Changes) Withdrawn() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.withdrawn
}

// Updated is how many times a new best path was installed for the prefix.
func (c *Changes) Updated() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.updated
}

// WatchBest counts the changes of the router's best path for prefix from
// now until the test ends.
func (r *Router) WatchBest(t testing.TB, prefix netip.Prefix) *Changes {
	t.Helper()
	c := &Changes{}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req := &api.WatchEventRequest{Table: &api.WatchEventRequest_Table{Filters: []*api.WatchEventRequest_Table_Filter{{Type: api.WatchEventRequest_Table_Filter_BEST}}}}
	err := r.bgp.WatchEvent(ctx, req, func(resp *api.WatchEventResponse) {
		for _, p := range resp.GetTable().GetPaths() {
			nlri, err := apiutil.GetNativeNlri(p)
			if err != nil || nlri.String() != prefix.String() {
				continue
			}
			c.mu.Lock()
			if p.GetIsWithdraw() {
				c.withdrawn++
			} else {
				c.updated++
			}
			c.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("router AS%d: watching best paths: %v", r.asn, err)
	}
	return c
}
