package compile

import (
	"slices"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"

	"github.com/anyctl/anyctl/resource"
)

// SelectPops returns the names of the PoPs a PopSelector picks, sorted: every
// PoP when all is set, else the union of the PoPs named and the PoPs in the
// regions listed. A PoP without a region is in no region. Names of PoPs that do not exist pick nothing; a nil or
// empty selector picks no PoP.
func SelectPops(s *resource.State, sel *v1.PopSelector) []string {
	return SelectSortedPops(s, sel, resource.SortedNames(s.Pops))
}

// SelectSortedPops is SelectPops given the state's PoP names already
// sorted, for callers that select for many services and would otherwise
// sort every PoP name once per service.
func SelectSortedPops(s *resource.State, sel *v1.PopSelector, sorted []string) []string {
	m := newSelector(sel)
	if m.all {
		if len(sorted) == 0 {
			return nil
		}
		return slices.Clone(sorted)
	}
	var out []string
	for _, name := range sorted {
		if m.picks(name, s.Pops[name]) {
			out = append(out, name)
		}
	}
	return out
}

// selector is a PopSelector indexed for repeated membership tests.
type selector struct {
	all     bool
	names   map[string]struct{}
	regions map[string]struct{}
}

func newSelector(sel *v1.PopSelector) selector {
	return selector{
		all:     sel.GetAll(),
		names:   set(sel.GetNames()),
		regions: set(sel.GetRegions()),
	}
}

// picks reports whether the selector picks the PoP of that name.
func (m selector) picks(name string, p *v1.Pop) bool {
	if m.all {
		return true
	}
	if _, ok := m.names[name]; ok {
		return true
	}
	region := p.GetSpec().GetLocation().GetRegion()
	if region == "" {
		return false
	}
	_, ok := m.regions[region]
	return ok
}

func set(in []string) map[string]struct{} {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]struct{}, len(in))
	for _, s := range in {
		out[s] = struct{}{}
	}
	return out
}
