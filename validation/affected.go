package validation

import (
	"cmp"
	"slices"
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// affectedBy returns the existing objects, other than the incoming ones
// (the keys of applied), whose cross-object problems an apply may change,
// in the state's order (kind, then name). It may return more than that,
// never less:
//
//   - a Pop changes the services and records whose selectors name it or
//     its region (old or new); a new Pop also changes those selecting every
//     PoP (their count), and any Pop the records selecting every PoP (their
//     addresses);
//   - an Origin changes the records choosing among it;
//   - a GslbZone changes its records, and so the records sharing a name
//     and type with them, and the records and the zones (their static
//     records) of other zones whose names are at or below its apex; and
//     the zones above or below it, where it was or is, whose name servers
//     or delegations its data may answer (their glue).
//
// Nothing else can give an existing object a problem it did not have: an
// apply deletes nothing, a problem with an incoming object is reported on
// that object, and Pops only lose problems by an apply.
func affectedBy(applied map[resource.Ref]int, existing, merged *resource.State, mix *index) []resource.Ref {
	if existing == nil {
		return nil
	}
	pops, regions := map[string]bool{}, map[string]bool{}
	origins, zones := map[string]bool{}, map[string]bool{}
	newPop := false
	for ref := range applied {
		switch ref.Kind {
		case v1.Kind_KIND_POP:
			pops[ref.Name] = true
			if old, ok := existing.Pops[ref.Name]; ok {
				regions[old.GetSpec().GetLocation().GetRegion()] = true
			} else {
				newPop = true
			}
			regions[merged.Pops[ref.Name].GetSpec().GetLocation().GetRegion()] = true
		case v1.Kind_KIND_ORIGIN:
			origins[ref.Name] = true
		case v1.Kind_KIND_GSLB_ZONE:
			zones[ref.Name] = true
		}
	}
	delete(regions, "")
	if len(pops) == 0 && len(origins) == 0 && len(zones) == 0 {
		return nil
	}
	picks := func(sel *v1.PopSelector, all bool) bool {
		if sel.GetAll() && all {
			return true
		}
		return slices.ContainsFunc(sel.GetNames(), func(n string) bool { return pops[n] }) ||
			slices.ContainsFunc(sel.GetRegions(), func(r string) bool { return regions[r] })
	}
	set := map[resource.Ref]bool{}
	add := func(ref resource.Ref) {
		if _, in := applied[ref]; !in {
			set[ref] = true
		}
	}
	if len(pops) > 0 {
		for name, s := range existing.Services {
			if sel := s.GetSpec().GetPops(); sel != nil && picks(sel, newPop) {
				add(resource.Ref{Kind: v1.Kind_KIND_ANYCAST_SERVICE, Name: name})
			}
		}
	}
	// The apexes of the applied zones, and the names strictly above them
	// (zoneApex is never the root, so inZone(n, apex) is n at or below
	// apex by its dots).
	apexes, aboveApexes := map[string]bool{}, map[string]bool{}
	for z := range zones {
		if apex, ok := mix.zones().zoneApex[z]; ok {
			apexes[apex] = true
		}
		// Where the zone was: a zone there may have needed its data.
		if apex, ok := zoneApex(existing.Zones[z].GetSpec()); ok {
			apexes[apex] = true
		}
	}
	for apex := range apexes {
		forAncestors(apex, func(n string) bool { aboveApexes[n] = true; return false })
	}
	under := func(rec *v1.GslbRecord) bool {
		if len(apexes) == 0 {
			return false
		}
		key, ok := mix.recordKey(rec)
		return ok && (apexes[key.owner] || forAncestors(key.owner, func(n string) bool { return apexes[n] }))
	}
	for name, z := range existing.Zones {
		apex, ok := mix.zones().zoneApex[name]
		if !ok {
			continue
		}
		above := aboveApexes[apex]
		below := forAncestors(apex, func(n string) bool { return apexes[n] })
		if above && len(z.GetSpec().GetRecords()) > 0 || (above || below) && needsGlue(z, apex) {
			add(resource.Ref{Kind: v1.Kind_KIND_GSLB_ZONE, Name: name})
		}
	}
	var records []string
	for name, rec := range existing.Records {
		spec := rec.GetSpec()
		if zones[spec.GetZone()] || under(merged.Records[name]) ||
			len(pops) > 0 && spec.GetPops() != nil && picks(spec.GetPops(), true) ||
			slices.ContainsFunc(spec.GetOrigins(), func(o string) bool { return origins[o] }) {
			add(resource.Ref{Kind: v1.Kind_KIND_GSLB_RECORD, Name: name})
			records = append(records, name)
		}
	}
	if len(zones) > 0 {
		for _, name := range records {
			if key, ok := mix.recordKey(merged.Records[name]); ok {
				for _, other := range mix.recordsByKey()[key] {
					add(resource.Ref{Kind: v1.Kind_KIND_GSLB_RECORD, Name: other})
				}
			}
		}
	}
	rank := map[v1.Kind]int{}
	for i, k := range resource.Kinds() {
		rank[k] = i
	}
	out := make([]resource.Ref, 0, len(set))
	for ref := range set {
		out = append(out, ref)
	}
	slices.SortFunc(out, func(a, b resource.Ref) int {
		return cmp.Or(cmp.Compare(rank[a.Kind], rank[b.Kind]), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// needsGlue reports whether a zone has a name server inside it listed
// without addresses, or a delegation (an NS record below its apex): the
// addresses these need may be another zone's.
func needsGlue(z *v1.GslbZone, apex string) bool {
	for _, ns := range z.GetSpec().GetNameServers() {
		if n, problem := zoneName(ns.GetName(), apex); problem == "" && len(ns.GetAddresses()) == 0 && inZone(n, apex) {
			return true
		}
	}
	for _, rec := range z.GetSpec().GetRecords() {
		if owner, problem := ownerName(rec.GetName(), apex); rec.GetType() == v1.RecordType_RECORD_TYPE_NS && problem == "" && owner != apex {
			return true
		}
	}
	return false
}

// forAncestors calls f with each name strictly above n but the root (the
// part after each of its dots), nearest first, until f returns true, and
// reports whether it did.
func forAncestors(n string, f func(string) bool) bool {
	for {
		i := strings.IndexByte(n, '.')
		if i < 0 || i == len(n)-1 {
			return false
		}
		n = n[i+1:]
		if f(n) {
			return true
		}
	}
}
