package controller

import (
	"context"
	"slices"
	"sort"

	"github.com/anyctl/anyctl/compile"
	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// computeHolds is the withdrawal budget: for each service with a minimum
// number of announcing PoPs, when fewer of its selected, in-service PoPs
// pass their health check than the minimum, it holds the announcements of
// just enough failing PoPs in place to reach it. A shared dependency
// failing everywhere, or a bad check, then cannot take the service off the
// internet. PoPs held before are kept first, so holds do not hop around;
// then PoPs in name order. Only PoPs with a live report count: an agent
// that is gone cannot be held. The hold is released as health returns.
//
// It sorts the PoP names once, not once per service, and gives up with
// ctx's error when ctx ends, so a stopping leader does not wait for it.
func computeHolds(ctx context.Context, s *resource.State, reports map[string]*v1.PopStatus, drains map[string]store.DrainRecord, prev map[string][]string) (map[string][]string, error) {
	out := map[string][]string{}
	var pops []string // sorted, once a service needs them
	for name, svc := range s.Services {
		minPops := int(svc.GetSpec().GetMinAnnouncingPops())
		if minPops == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if pops == nil {
			pops = resource.SortedNames(s.Pops)
		}
		var healthy int
		var failing []string
		for _, pop := range compile.SelectSortedPops(s, svc.GetSpec().GetPops(), pops) {
			if s.Pops[pop].GetSpec().GetMaintenance() {
				continue
			}
			if _, draining := drains[pop]; draining {
				continue
			}
			st, ok := reports[pop]
			if !ok {
				continue
			}
			up, known := checkHealthy(st, name)
			switch {
			case up:
				healthy++
			case known:
				failing = append(failing, pop)
			}
		}
		need := minPops - healthy
		if need <= 0 || len(failing) == 0 {
			continue
		}
		sort.SliceStable(failing, func(i, j int) bool {
			return slices.Contains(prev[name], failing[i]) && !slices.Contains(prev[name], failing[j])
		})
		held := failing[:min(need, len(failing))]
		sort.Strings(held)
		out[name] = held
	}
	return out, nil
}

// checkHealthy reports a service's check result in a PoP's report.
func checkHealthy(st *v1.PopStatus, service string) (up, known bool) {
	for _, c := range st.GetChecks() {
		if c.GetService() == service {
			return c.GetHealthy(), c.GetLastResult() != ""
		}
	}
	return false, false
}
