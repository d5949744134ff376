package validation

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// crossRecord applies the GslbRecord rules that need other objects: its
// zone, its name in that zone, its candidates and their addresses, and
// residency rules naming candidates.
func crossRecord(r report, rec *v1.GslbRecord, st *resource.State, ix *index) {
	spec := rec.GetSpec()
	if spec == nil {
		return
	}
	crossRecordName(r, spec, st, ix)
	crossNameOrigins(r, spec, st, ix)
	// A default TTL past the zone's own bound is the zone's error.
	if d := st.Zones[spec.GetZone()].GetSpec().GetDefaultTtl(); spec.GetTtl() == 0 && d > maxRecordTTL && d <= maxZoneTTL {
		r.addf("spec.ttl", "0", "0 means the zone's defaultTtl, %d, outside 1..%d: set a TTL for the record", d, maxRecordTTL)
	}
	candidates, kind, has4, has6, ok := recordCandidates(r, spec, st, ix)
	if candidates == nil {
		return
	}
	if ok && len(candidates) > 0 {
		what := "candidate"
		if kind == v1.Kind_KIND_POP {
			what = "selected PoP"
		}
		switch t := spec.GetType(); {
		case t == v1.RecordType_RECORD_TYPE_A && !has4:
			r.addf("spec.type", t.String(), "no %s has an IPv4 address", what)
		case t == v1.RecordType_RECORD_TYPE_AAAA && !has6:
			r.addf("spec.type", t.String(), "no %s has an IPv6 address", what)
		}
	}
	if spec.GetType() == v1.RecordType_RECORD_TYPE_HTTPS && ok && len(candidates) > 0 {
		crossHTTPSSize(r, spec, kind, candidates, st, ix)
	}
	for i, rule := range spec.GetResidency() {
		for j, name := range rule.GetAllowed() {
			if name != "" && !candidates[name] {
				e := r.add(idx(idx("spec.residency", i)+".allowed", j), name, "not among the record's candidates")
				e.refTo = resource.Ref{Kind: kind, Name: name}
			}
		}
	}
}

// crossRecordName checks the record's zone exists, that its name is inside
// it, and that no other record or static record holds the same name and
// type.
func crossRecordName(r report, spec *v1.GslbRecordSpec, st *resource.State, ix *index) {
	zone, name := spec.GetZone(), spec.GetName()
	if zone == "" {
		return
	}
	if _, ok := st.Zones[zone]; !ok {
		e := r.add("spec.zone", zone, "unknown GslbZone")
		e.refTo = resource.Ref{Kind: v1.Kind_KIND_GSLB_ZONE, Name: zone}
		return
	}
	apex, ok := ix.zones().zoneApex[zone]
	if !ok || name == "" || (name != "@" && domainProblem(name) != "") {
		return
	}
	owner, problem := ownerName(name, apex)
	if problem != "" {
		r.add("spec.name", name, problem)
		return
	}
	if inner := ix.zoneInside(owner, apex); inner != "" {
		r.addf("spec.name", name, "%q is inside GslbZone %q (%s), which answers for it: put the record in that zone", owner, inner, ix.zoneApex[inner])
		return
	}
	// A zone above this one may delegate a name inside it too.
	isCut := func(n string) bool { _, ok := ix.cutZones[n]; return ok }
	if cut, _ := CutAbove(owner, apex, isCut); cut != "" {
		by := zone
		if !ix.cuts[zone][cut] {
			by = ix.cutZones[cut]
		}
		r.addf("spec.name", name, "%q is delegated to a child zone at %q in GslbZone %q: the child zone answers for it", owner, cut, by)
		return
	}
	// A static record or name server address of another zone at the name
	// (one above this one, reaching into it) collides as one of this zone
	// would.
	in := func(zones map[rrKey][]string, typ v1.RecordType) string {
		zs := zones[rrKey{owner, typ}]
		switch {
		case len(zs) == 0:
			return ""
		case slices.Contains(zs, zone):
			return zone
		}
		return zs[0]
	}
	if z := in(ix.staticZones, v1.RecordType_RECORD_TYPE_CNAME); z != "" {
		r.addf("spec.name", name, "%q is a static CNAME in GslbZone %q", owner, z)
	} else if z := in(ix.staticZones, spec.GetType()); z != "" {
		r.addf("spec.name", name, "%q %s is a static record in GslbZone %q", owner, spec.GetType(), z)
	} else if z := in(ix.glueZones, spec.GetType()); z != "" {
		r.addf("spec.name", name, "%q is a name server of GslbZone %q, answered with its %s addresses in spec.nameServers: give the record another name", owner, z, strings.TrimPrefix(spec.GetType().String(), "RECORD_TYPE_"))
	}
	for _, other := range ix.recordsByKey()[rrKey{owner, spec.GetType()}] {
		if other != r.ref.Name {
			e := r.addf("spec.name", name, "same name and type as GslbRecord %q", other)
			e.other = resource.Ref{Kind: v1.Kind_KIND_GSLB_RECORD, Name: other}
		}
	}
}

// recordCandidates resolves the record's candidates, origins or PoPs, and
// reports unknown ones. It returns their names (unknown ones included, as
// written), their kind, whether any has an IPv4 or an IPv6 address, and ok
// false when a candidate is unresolved. names is nil when the record has no
// single source of candidates.
func recordCandidates(r report, spec *v1.GslbRecordSpec, st *resource.State, ix *index) (names map[string]bool, kind v1.Kind, has4, has6, ok bool) {
	note := func(addrs []string) {
		for _, s := range addrs {
			if a, err := netip.ParseAddr(s); err == nil {
				has4 = has4 || a.Is4()
				has6 = has6 || a.Is6() && !a.Is4In6()
			} else {
				// A name origin is answered with a CNAME, whatever the type.
				has4, has6 = true, true
			}
		}
	}
	origins, pops := spec.GetOrigins(), spec.GetPops()
	switch {
	case len(origins) > 0 && pops == nil:
		names, kind, ok = map[string]bool{}, v1.Kind_KIND_ORIGIN, true
		for i, name := range origins {
			if name == "" {
				continue
			}
			names[name] = true
			o, known := st.Origins[name]
			if !known {
				e := r.add(idx("spec.origins", i), name, "unknown Origin")
				e.refTo = resource.Ref{Kind: v1.Kind_KIND_ORIGIN, Name: name}
				ok = false
				continue
			}
			note(o.GetSpec().GetAddresses())
		}
	case pops != nil && len(origins) == 0:
		if !pops.GetAll() && len(pops.GetNames()) == 0 && len(pops.GetRegions()) == 0 {
			return nil, 0, false, false, false // checkSelector reports it
		}
		kind = v1.Kind_KIND_POP
		names, ok = selectPops(r, "spec.pops", pops, st, ix)
		for name := range names {
			note(st.Pops[name].GetSpec().GetUnicastAddresses())
		}
		for _, name := range pops.GetNames() {
			names[name] = true
		}
	}
	return names, kind, has4, has6, ok
}

// crossNameOrigins refuses name origins (answered with a CNAME) at a name
// that holds other data: the zone apex (its SOA and NS records), static
// records of any zone (one above this one may reach into it), or a name
// server's addresses. A CNAME stands alone.
func crossNameOrigins(r report, spec *v1.GslbRecordSpec, st *resource.State, ix *index) {
	apex, ok := ix.zones().zoneApex[spec.GetZone()]
	if !ok || spec.GetName() == "" {
		return
	}
	owner, problem := ownerName(spec.GetName(), apex)
	if problem != "" {
		return
	}
	for i, name := range spec.GetOrigins() {
		if as := st.Origins[name].GetSpec().GetAddresses(); len(as) == 1 && IsOriginName(as[0]) && domainProblem(as[0]) == "" && fqdn(as[0]) == owner {
			r.addf(idx("spec.origins", i), name, "a DNS name origin, answered with a CNAME to %q, the record's own name, which resolvers follow in a loop", owner)
		}
	}
	var beside string
	if owner == apex {
		beside = fmt.Sprintf("%q is the apex of GslbZone %q, which holds its SOA and NS records: a CNAME stands alone, and cannot be at a zone apex", owner, spec.GetZone())
	} else if zone := staticZoneAt(owner, spec.GetZone(), ix); zone != "" {
		var static []string
		for key := range ix.static[zone] {
			if key.owner == owner {
				static = append(static, key.typ.String())
			}
		}
		slices.Sort(static)
		beside = fmt.Sprintf("%q holds static %s records in GslbZone %q: a CNAME stands alone", owner, strings.Join(static, ", "), zone)
	} else if zs := slices.Concat(ix.glueZones[rrKey{owner, v1.RecordType_RECORD_TYPE_A}], ix.glueZones[rrKey{owner, v1.RecordType_RECORD_TYPE_AAAA}]); len(zs) > 0 {
		beside = fmt.Sprintf("%q is a name server of GslbZone %q, answered with its addresses: a CNAME stands alone", owner, zs[0])
	}
	if beside == "" {
		return
	}
	for i, name := range spec.GetOrigins() {
		if as := st.Origins[name].GetSpec().GetAddresses(); len(as) == 1 && IsOriginName(as[0]) {
			r.addf(idx("spec.origins", i), name, "a DNS name origin, answered with a CNAME, but %s", beside)
		}
	}
}

// staticZoneAt returns the zone holding static records at owner: zone
// itself when it does, else the first other zone that does, "" if none.
func staticZoneAt(owner, zone string, ix *index) string {
	other := ""
	for t := v1.RecordType_RECORD_TYPE_A; t <= v1.RecordType_RECORD_TYPE_DS; t++ {
		for _, z := range ix.staticZones[rrKey{owner, t}] {
			if z == zone {
				return zone
			}
			if other == "" || z < other {
				other = z
			}
		}
	}
	return other
}

// crossHTTPSSize refuses an HTTPS record whose answer, with its
// candidates' addresses as hints, does not fit in a DNS message.
func crossHTTPSSize(r report, spec *v1.GslbRecordSpec, kind v1.Kind, candidates map[string]bool, st *resource.State, ix *index) {
	key, ok := ix.recordKey(&v1.GslbRecord{Spec: spec})
	if !ok {
		return
	}
	path := "spec.origins"
	var addrs [][]string
	for name := range candidates {
		if kind == v1.Kind_KIND_POP {
			path = "spec.pops"
			addrs = append(addrs, st.Pops[name].GetSpec().GetUnicastAddresses())
		} else {
			addrs = append(addrs, st.Origins[name].GetSpec().GetAddresses())
		}
	}
	checkHTTPSSize(r, spec, key.owner, path, addrs)
}
