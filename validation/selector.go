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
func selectPops(r report, path string, s *v1.PopSelector, st *resource.State) (map[string]bool, bool) {
	selected := map[string]bool{}
	ok := s.GetAll() || len(s.GetNames()) > 0 || len(s.GetRegions()) > 0
	if s.GetAll() {
		for name := range st.Pops {
			selected[name] = true
		}
	}
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
		selected[n] = true
	}
	for i, region := range s.GetRegions() {
		if region == "" {
			continue
		}
		found := false
		for name, p := range st.Pops {
			if p.GetSpec().GetLocation().GetRegion() == region {
				selected[name] = true
				found = true
			}
		}
		if !found {
			r.add(idx(path+".regions", i), region, "no Pop in this region")
			ok = false
		}
	}
	return selected, ok
}
