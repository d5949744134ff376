package validation

import (
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// index holds what the cross-object rules look up, computed once per
// state from the objects that are valid enough to index.
type index struct {
	prefixOwners prefixOwners // announceable prefixes by owning service
	zoneNames    []string
	zoneApex     map[string]string         // by zone name
	static       map[string]map[rrKey]bool // static RRsets by zone name
	records      map[rrKey][]string        // GslbRecord names by owner and type
	popsByRegion map[string][]string       // Pop names by region, regions not empty
}

func newIndex(st *resource.State) *index {
	ix := &index{
		zoneNames:    resource.SortedNames(st.Zones),
		zoneApex:     map[string]string{},
		static:       map[string]map[rrKey]bool{},
		records:      map[rrKey][]string{},
		popsByRegion: map[string][]string{},
	}
	for name, p := range st.Pops {
		if region := p.GetSpec().GetLocation().GetRegion(); region != "" {
			ix.popsByRegion[region] = append(ix.popsByRegion[region], name)
		}
	}
	for name, s := range st.Services {
		for _, str := range s.GetSpec().GetPrefixes() {
			if p, ok := announceable(str, s.GetSpec().GetAllowLongPrefixes()); ok {
				ix.prefixOwners.add(p, name)
			}
		}
	}
	ix.prefixOwners.seal()
	for name, z := range st.Zones {
		apex, ok := zoneApex(z.GetSpec())
		if !ok {
			continue
		}
		ix.zoneApex[name] = apex
		ix.static[name] = map[rrKey]bool{}
		for _, rec := range z.GetSpec().GetRecords() {
			if owner, problem := ownerName(rec.GetName(), apex); rec.GetName() != "" && problem == "" {
				ix.static[name][rrKey{owner, rec.GetType()}] = true
			}
		}
	}
	for _, name := range resource.SortedNames(st.Records) {
		if key, ok := ix.recordKey(st.Records[name]); ok {
			ix.records[key] = append(ix.records[key], name)
		}
	}
	return ix
}

// recordKey returns a GslbRecord's canonical owner name and type, when its
// zone is known and its name is valid.
func (ix *index) recordKey(rec *v1.GslbRecord) (rrKey, bool) {
	spec := rec.GetSpec()
	apex, ok := ix.zoneApex[spec.GetZone()]
	if !ok || spec.GetName() == "" {
		return rrKey{}, false
	}
	owner, problem := ownerName(spec.GetName(), apex)
	if problem != "" {
		return rrKey{}, false
	}
	return rrKey{owner, spec.GetType()}, true
}

// crossCheck applies every cross-object rule to every object of the state.
// Each error's order is the object's position in the state.
func crossCheck(st *resource.State) Errors {
	var errs Errors
	ix := newIndex(st)
	for i, o := range st.Objects() {
		crossCheckObject(report{ref: resource.RefOf(o), order: i, errs: &errs}, o, st, ix)
	}
	return errs
}

// crossCheckObject applies the cross-object rules to one object of the
// state, whose index ix is.
func crossCheckObject(r report, o *v1.Object, st *resource.State, ix *index) {
	switch x := o.GetResource().(type) {
	case *v1.Object_Pop:
		crossPop(r, x.Pop, st)
	case *v1.Object_AnycastService:
		crossService(r, x.AnycastService, st, ix)
	case *v1.Object_GslbZone:
		crossZone(r, x.GslbZone, ix)
	case *v1.Object_GslbRecord:
		crossRecord(r, x.GslbRecord, st, ix)
	}
}
