package validation

import (
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// checkSelector applies the per-object PopSelector rules at path: it must
// choose by exactly one of all, names or regions.
func checkSelector(r report, path string, s *v1.PopSelector) {
	all, names, regions := s.GetAll(), s.GetNames(), s.GetRegions()
	switch {
	case !all && len(names) == 0 && len(regions) == 0:
		r.add(path, "", "selects nothing: set all, names or regions")
	case all && (len(names) > 0 || len(regions) > 0):
		r.add(path+".all", "true", "ambiguous beside names or regions: use one")
	}
	checkNameList(r, path+".names", names)
	checkNameList(r, path+".regions", regions)
}

// checkNameList refuses empty and repeated entries in a list of names.
func checkNameList(r report, path string, names []string) {
	seen := map[string]int{}
	for i, n := range names {
		if n == "" {
			r.add(idx(path, i), "", "empty")
			continue
		}
		if j, dup := seen[n]; dup {
			r.addf(idx(path, i), n, "duplicate of %s", idx(path, j))
			continue
		}
		seen[n] = i
	}
}

// selectPops resolves a selector against the state's PoPs and returns the
// names selected. Names of unknown PoPs and regions without PoPs are
// reported; ok is false when anything was, or when the selector chooses by
// nothing (which checkSelector reports).
func selectPops(r report, path string, s *v1.PopSelector, st *resource.State, ix *index) (map[string]bool, bool) {
	selected := map[string]bool{}
	if s.GetAll() {
		for name := range st.Pops {
			selected[name] = true
		}
	}
	ok := reportSelector(r, path, s, st, ix, func(name string) { selected[name] = true })
	return selected, ok
}

// countSelected is len(selectPops(...)) with the same reports, without
// building the set where counting will do: every PoP, PoPs by name only,
// or by region only (a PoP is in one region).
func countSelected(r report, path string, s *v1.PopSelector, st *resource.State, ix *index) (int, bool) {
	names, regions := s.GetNames(), s.GetRegions()
	if !s.GetAll() && len(names) > 0 && len(regions) > 0 {
		selected, ok := selectPops(r, path, s, st, ix)
		return len(selected), ok
	}
	ok := reportSelector(r, path, s, st, ix, func(string) {})
	seen := map[string]bool{}
	var n int
	switch {
	case s.GetAll():
		n = len(st.Pops)
	case len(names) > 0:
		for _, name := range names {
			if _, known := st.Pops[name]; known && !seen[name] {
				seen[name] = true
				n++
			}
		}
	default:
		for _, region := range regions {
			if !seen[region] {
				seen[region] = true
				n += len(ix.regionPops(region))
			}
		}
	}
	return n, ok
}

// reportSelector reports a selector's unknown PoP names and regions without
// PoPs, calls pick with each PoP it names and each PoP of its regions
// (unless it selects every PoP), and reports ok as selectPops does.
func reportSelector(r report, path string, s *v1.PopSelector, st *resource.State, ix *index, pick func(string)) bool {
	ok := s.GetAll() || len(s.GetNames()) > 0 || len(s.GetRegions()) > 0
	for i, n := range s.GetNames() {
		if n == "" {
			continue
		}
		if _, known := st.Pops[n]; !known {
			e := r.add(idx(path+".names", i), n, "unknown Pop")
			e.refTo = resource.Ref{Kind: v1.Kind_KIND_POP, Name: n}
			ok = false
			continue
		}
		if !s.GetAll() {
			pick(n)
		}
	}
	for i, region := range s.GetRegions() {
		if region == "" {
			continue
		}
		pops := ix.regionPops(region)
		if len(pops) == 0 {
			r.add(idx(path+".regions", i), region, "no Pop in this region")
			ok = false
			continue
		}
		if !s.GetAll() {
			for _, name := range pops {
				pick(name)
			}
		}
	}
	return ok
}
