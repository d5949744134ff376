package compile

import (
	"errors"
	"fmt"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/resource"
)

// ErrUnknownPop is returned, wrapped, for a PoP that is not in the desired
// state.
var ErrUnknownPop = errors.New("no such PoP in the desired state")

// PopConfig compiles the config of one PoP. It fails only when the PoP does
// not exist.
func PopConfig(s *resource.State, pop string, obs Observed) (*v1.PopConfig, error) {
	p, ok := s.Pops[pop]
	if !ok {
		return nil, fmt.Errorf("compile config of Pop %q at revision %d: %w", pop, s.Revision, ErrUnknownPop)
	}
	t := newTemplates(s, func(m selector) bool { return m.picks(pop, p) })
	return t.popConfig(pop, p, obs), nil
}

// PopConfigs compiles the config of every PoP, by PoP name. It compiles
// every message afresh; a Fleet compiles what PoPs share once, and a
// change again only where it changed, for the agent streams.
func PopConfigs(s *resource.State, obs Observed) map[string]*v1.PopConfig {
	t := newTemplates(s, func(selector) bool { return true })
	out := make(map[string]*v1.PopConfig, len(s.Pops))
	for name, p := range s.Pops {
		out[name] = t.popConfig(name, p, obs)
	}
	return out
}

// templates holds what every PoP's config shares, compiled once: each
// service with its selector and the origin probes.
type templates struct {
	revision int64
	services []serviceTemplate
	probes   []*v1.OriginProbe
}

// serviceTemplate is a service compiled for any PoP: the assignment lacks
// only the PoP's announce mode.
type serviceTemplate struct {
	sel        selector
	assignment *v1.ServiceAssignment
}

// newTemplates compiles the services whose selector keep accepts, and the
// origin probes.
func newTemplates(s *resource.State, keep func(selector) bool) *templates {
	f := &templates{revision: s.Revision, probes: originProbes(s)}
	for _, name := range resource.SortedNames(s.Services) {
		spec := s.Services[name].GetSpec()
		sel := newSelector(spec.GetPops())
		if !keep(sel) {
			continue
		}
		f.services = append(f.services, serviceTemplate{sel: sel, assignment: serviceAssignment(name, spec)})
	}
	return f
}

func (f *templates) popConfig(name string, p *v1.Pop, obs Observed) *v1.PopConfig {
	spec := p.GetSpec()
	cfg := &v1.PopConfig{
		Pop:         name,
		Revision:    f.revision,
		LocalAsn:    spec.GetLocalAsn(),
		RouterId:    spec.GetRouterId(),
		NextHopIpv4: spec.GetNextHopIpv4(),
		NextHopIpv6: spec.GetNextHopIpv6(),
	}
	for _, peer := range spec.GetPeers() {
		cfg.Peers = append(cfg.Peers, peerWithDefaults(peer))
	}
	mode := announceMode(p, obs.Drain[name])
	for _, t := range f.services {
		if !t.sel.picks(name, p) {
			continue
		}
		a := proto.Clone(t.assignment).(*v1.ServiceAssignment)
		a.Mode = mode
		if mode == v1.AnnounceMode_ANNOUNCE_MODE_DRAINING {
			a.DrainPrepend = DrainPrepend
		}
		a.BudgetHold = obs.held(a.GetName(), name)
		cfg.Services = append(cfg.Services, a)
	}
	for _, probe := range f.probes {
		cfg.OriginProbes = append(cfg.OriginProbes, proto.Clone(probe).(*v1.OriginProbe))
	}
	return cfg
}

// announceMode is what a PoP does with its services' prefixes: nothing in
// maintenance or once withdrawn by a drain, announce with graceful shutdown
// while draining, else announce normally.
func announceMode(p *v1.Pop, step DrainStep) v1.AnnounceMode {
	switch {
	case p.GetSpec().GetMaintenance(), step == DrainWithdrawn:
		return v1.AnnounceMode_ANNOUNCE_MODE_WITHDRAWN
	case step == DrainGracefulShutdown:
		return v1.AnnounceMode_ANNOUNCE_MODE_DRAINING
	}
	return v1.AnnounceMode_ANNOUNCE_MODE_NORMAL
}
