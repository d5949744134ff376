package controller

import (
	"context"
	"encoding/base64"
	"sort"
	"time"

	"github.com/anyctl/anyctl/compile"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const (
	// defaultStatusPage and maxStatusPage bound the PoP entries of one
	// Status page; maxStatusPageBytes bounds its size, well under the
	// clients' 4 MiB receive limit.
	defaultStatusPage  = 500
	maxStatusPage      = 5000
	maxStatusPageBytes = 2 << 20
	// maxProblemsListed bounds the PoPs the summary names.
	maxProblemsListed = 100
	// maxAnnouncingListed bounds the PoPs a service budget names.
	maxAnnouncingListed = 50
	// alarmsTimeout bounds the look at etcd's alarms.
	alarmsTimeout = 2 * time.Second
	// refusalsReadTimeout bounds the read of the refused agents for Status.
	refusalsReadTimeout = time.Second
)

// Status reports the fleet: a summary, each service's budget and etcd's
// alarms on the first page; one PoP's entry, or a page of every PoP's.
func (a *adminServer) Status(ctx context.Context, req *v1.StatusRequest) (*v1.StatusResponse, error) {
	s, _ := a.cache.Current()
	if req.GetPop() != "" {
		if _, ok := s.Pops[req.GetPop()]; !ok {
			return nil, status.Errorf(codes.NotFound, "Pop %s not found", resource.Quote(req.GetPop()))
		}
	}
	after, err := decodeStatusToken(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	reports, _ := a.reports.Reports()
	held := a.reports.Held()
	drains := a.fleet.Drains()
	// Refused second agents are a note, not the status: without etcd the
	// status is answered from this replica's mirrors, without them.
	refused, err := a.st.AgentRefusals(ctx, refusalsReadTimeout)
	if err != nil {
		a.log.Debug("status without refused agents: reading them failed", "err", err)
	}
	now := time.Now()
	names := resource.SortedNames(s.Pops)
	resp := &v1.StatusResponse{Revision: s.Revision}
	entry := func(name string) *v1.PopStatusEntry {
		e := &v1.PopStatusEntry{Pop: name, Drain: &v1.DrainState{Step: v1.DrainStep_DRAIN_STEP_NONE}}
		if r, ok := drains[name]; ok {
			e.Drain = drainStateProto(r)
		}
		if r, ok := refused[name]; ok {
			e.RefusedAgent = &v1.AgentRefusal{Address: r.Addr, At: timestamppb.New(r.At), LiveAgentAddress: r.Live.Addr,
				LiveAgentSince: timestamppb.New(r.Live.Since), Controller: r.Controller}
		}
		if st, ok := reports[name]; ok {
			// With the config revision its agent acknowledged since.
			e.Status = held.revisionOf(name, st)
			if st.GetReportedAt() != nil {
				e.ReportAge = durationpb.New(now.Sub(st.GetReportedAt().AsTime()))
			}
		}
		return e
	}
	switch {
	case req.GetPop() != "":
		resp.Pops = []*v1.PopStatusEntry{entry(req.GetPop())}
	case req.GetPops():
		size := int(req.GetPageSize())
		if size <= 0 {
			size = defaultStatusPage
		}
		size = min(size, maxStatusPage)
		bytes := 0
		for _, name := range names[sort.SearchStrings(names, after+"\x00"):] {
			e := entry(name)
			n := proto.Size(e)
			if len(resp.Pops) == size || len(resp.Pops) > 0 && bytes+n > maxStatusPageBytes {
				resp.NextPageToken = encodeStatusToken(resp.Pops[len(resp.Pops)-1].GetPop())
				break
			}
			resp.Pops = append(resp.Pops, e)
			bytes += n
		}
	}
	if req.GetPageToken() != "" {
		return resp, nil
	}
	resp.Summary = summarise(names, reports, drains, refused)
	resp.Services = budgets(s, reports, a.fleet.Holds())
	resp.Controller = a.replica.proto()
	if a.dns != nil {
		resp.DnsServers = a.dns.list(time.Now())
	}
	actx, cancel := context.WithTimeout(ctx, alarmsTimeout)
	defer cancel()
	alarms, err := a.st.Alarms(actx)
	if err != nil {
		alarms = []string{"etcd's alarms could not be read: " + err.Error()}
	}
	resp.StoreAlarms = alarms
	return resp, nil
}

// encodeStatusToken and decodeStatusToken carry the last PoP of a page.
func encodeStatusToken(pop string) string { return base64.RawURLEncoding.EncodeToString([]byte(pop)) }

func decodeStatusToken(tok string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", status.Errorf(codes.InvalidArgument, "page_token %s: not a token this controller gave; start again without one", resource.Quote(tok))
	}
	return string(b), nil
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

// budgets counts, per service, the PoPs whose live reports say they
// announce it, naming them when there are few.
func budgets(s *resource.State, reports map[string]*v1.PopStatus, holds map[string][]string) []*v1.ServiceBudget {
	announcing := map[string][]string{}
	for pop, st := range reports {
		seen := map[string]bool{}
		for _, p := range st.GetPrefixes() {
			if p.GetAnnounced() && !seen[p.GetService()] {
				seen[p.GetService()] = true
				announcing[p.GetService()] = append(announcing[p.GetService()], pop)
			}
		}
	}
	var out []*v1.ServiceBudget
	for _, name := range resource.SortedNames(s.Services) {
		pops := announcing[name]
		b := &v1.ServiceBudget{Service: name, MinAnnouncingPops: s.Services[name].GetSpec().GetMinAnnouncingPops(),
			AnnouncingPops: uint32(len(pops)), Held: holds[name]}
		if len(pops) <= maxAnnouncingListed {
			sort.Strings(pops)
			b.Announcing = pops
		}
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
