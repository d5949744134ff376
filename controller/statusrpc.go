package controller

import (
	"context"
	"sort"
	"time"

	"github.com/anyctl/anyctl/compile"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// refusalsReadTimeout bounds the read of the refused agents for Status.
const refusalsReadTimeout = time.Second

// Status reports every PoP (or one) with its agent's last live report, and
// each service's announcing PoPs against its minimum.
func (a *adminServer) Status(ctx context.Context, req *v1.StatusRequest) (*v1.StatusResponse, error) {
	s, _ := a.cache.Current()
	if req.GetPop() != "" {
		if _, ok := s.Pops[req.GetPop()]; !ok {
			return nil, status.Errorf(codes.NotFound, "Pop %s not found", resource.Quote(req.GetPop()))
		}
	}
	reports, _ := a.reports.Reports()
	drains := a.fleet.Drains()
	// Refused second agents are a note, not the status: without etcd the
	// status is answered from this replica's mirrors, without them.
	refused, err := a.st.AgentRefusals(ctx, refusalsReadTimeout)
	if err != nil {
		a.log.Debug("status without refused agents: reading them failed", "err", err)
	}
	now := time.Now()
	resp := &v1.StatusResponse{Revision: s.Revision}
	for _, name := range resource.SortedNames(s.Pops) {
		if req.GetPop() != "" && name != req.GetPop() {
			continue
		}
		e := &v1.PopStatusEntry{Pop: name, Drain: &v1.DrainState{Step: v1.DrainStep_DRAIN_STEP_NONE}}
		if r, ok := drains[name]; ok {
			e.Drain = drainStateProto(r)
		}
		if r, ok := refused[name]; ok {
			e.RefusedAgent = &v1.AgentRefusal{Address: r.Addr, At: timestamppb.New(r.At), LiveAgentAddress: r.Live.Addr,
				LiveAgentSince: timestamppb.New(r.Live.Since), Controller: r.Controller}
		}
		if st, ok := reports[name]; ok {
			e.Status = st
			if st.GetReportedAt() != nil {
				e.ReportAge = durationpb.New(now.Sub(st.GetReportedAt().AsTime()))
			}
		}
		resp.Pops = append(resp.Pops, e)
	}
	resp.Services = budgets(s, reports, a.fleet.Holds())
	resp.Controller = a.replica.proto()
	return resp, nil
}

func drainStepProto(st compile.DrainStep) v1.DrainStep {
	switch st {
	case compile.DrainGslb:
		return v1.DrainStep_DRAIN_STEP_GSLB
	case compile.DrainGracefulShutdown:
		return v1.DrainStep_DRAIN_STEP_GRACEFUL_SHUTDOWN
	case compile.DrainWithdrawn:
		return v1.DrainStep_DRAIN_STEP_WITHDRAWN
	}
	return v1.DrainStep_DRAIN_STEP_NONE
}

// budgets lists, per service, the PoPs whose live reports say they
// announce it.
func budgets(s *resource.State, reports map[string]*v1.PopStatus, holds map[string][]string) []*v1.ServiceBudget {
	var out []*v1.ServiceBudget
	for _, name := range resource.SortedNames(s.Services) {
		b := &v1.ServiceBudget{Service: name, MinAnnouncingPops: s.Services[name].GetSpec().GetMinAnnouncingPops()}
		for _, pop := range resource.SortedNames(reports) {
			if announces(reports[pop], name) {
				b.Announcing = append(b.Announcing, pop)
			}
		}
		sort.Strings(b.Announcing)
		b.Held = holds[name]
		out = append(out, b)
	}
	return out
}

func announces(st *v1.PopStatus, service string) bool {
	for _, p := range st.GetPrefixes() {
		if p.GetService() == service && p.GetAnnounced() {
			return true
		}
	}
	return false
}
