package validation

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// maxZoneTTL bounds a zone's default TTL and its static records' TTLs: one
// week.
const maxZoneTTL = 604800

// checkZone applies the per-object rules of a GslbZone. The zone is always
// absolute: "gslb.example.com" is taken as "gslb.example.com.".
func checkZone(r report, z *v1.GslbZone) {
	spec := z.GetSpec()
	if spec == nil {
		r.add("spec", "", "required")
		return
	}
	apex, ok := zoneApex(spec)
	switch {
	case spec.GetZone() == "":
		r.add("spec.zone", "", "required: the zone apex, such as \"gslb.example.com.\"")
	case spec.GetZone() == ".":
		r.add("spec.zone", ".", "the root zone cannot be served")
	case !ok:
		r.add("spec.zone", spec.GetZone(), domainProblem(spec.GetZone()))
	}
	checkSOA(r, spec.GetSoa(), apex)
	checkNameServers(r, spec.GetNameServers(), apex)
	if ttl := spec.GetDefaultTtl(); ttl < 1 || ttl > maxZoneTTL {
		r.add("spec.defaultTtl", fmt.Sprint(ttl), "outside 1..604800")
	}
	if ok {
		checkStaticRecords(r, spec.GetRecords(), apex)
	}
}

// zoneApex returns the canonical apex of a zone, ok false when the zone is
// not a valid name.
func zoneApex(spec *v1.GslbZoneSpec) (string, bool) {
	z := spec.GetZone()
	if z == "" || z == "." || domainProblem(z) != "" {
		return "", false
	}
	return fqdn(z), true
}

// checkSOA requires the SOA's name server and mailbox names, read as
// zoneName reads them when the zone's apex is known.
func checkSOA(r report, soa *v1.Soa, apex string) {
	if soa == nil {
		r.add("spec.soa", "", "required: mname and rname")
		return
	}
	checkZoneName(r, "spec.soa.mname", soa.GetMname(), apex)
	rname := soa.GetRname()
	if at := strings.IndexByte(rname, '@'); at >= 0 {
		r.addf("spec.soa.rname", rname, "a mailbox is written as a name; did you mean %q?",
			fqdn(rname[:at]+"."+rname[at+1:]))
		return
	}
	checkZoneName(r, "spec.soa.rname", rname, apex)
}

// checkZoneName requires a valid name at path, and one zoneName can
// resolve when the zone's apex is known.
func checkZoneName(r report, path, name, apex string) {
	checkDomain(r, path, name)
	if name == "" || domainProblem(name) != "" || apex == "" {
		return
	}
	if _, problem := zoneName(name, apex); problem != "" {
		r.add(path, name, problem)
	}
}

// checkDomain requires a valid domain name at path.
func checkDomain(r report, path, name string) {
	if name == "" {
		r.add(path, "", "required")
		return
	}
	if p := domainProblem(name); p != "" {
		r.add(path, name, p)
	}
}

// checkNameServers requires at least one name server and refuses repeats;
// crossZoneGlueRequired requires glue for name servers inside the zone,
// which another zone served here may answer. Names are read as zoneName
// reads them, as DNS servers serve them: "ns1" is "ns1.<zone>.",
// "ns1.example.net." is outside the zone.
func checkNameServers(r report, nss []*v1.NameServer, apex string) {
	if len(nss) == 0 {
		r.add("spec.nameServers", "", "at least one name server required")
	}
	if apex != "" {
		checkNameServersSize(r, nss, apex)
	}
	seen := map[string]int{}
	for i, ns := range nss {
		path := idx("spec.nameServers", i)
		for j, a := range ns.GetAddresses() {
			checkAddr(r, idx(path+".addresses", j), a)
		}
		name := ns.GetName()
		if name == "" || domainProblem(name) != "" {
			checkDomain(r, path+".name", name)
			continue
		}
		if apex == "" {
			continue // the zone's own error says why
		}
		n, problem := zoneName(name, apex)
		if problem != "" {
			r.add(path+".name", name, problem)
			continue
		}
		if j, dup := seen[n]; dup {
			r.addf(path+".name", name, "duplicate of spec.nameServers[%d]", j)
			continue
		}
		seen[n] = i
		if inZone(n, apex) {
			checkGlueSize(r, path+".addresses", n, ns.GetAddresses())
		}
	}
}

// crossZone refuses two zones with the same apex, and a static record at
// the apex of another zone, a delegation (NS records) included: that zone
// is served here and answers for its apex itself.
func crossZone(r report, z *v1.GslbZone, ix *index) {
	apex, ok := zoneApex(z.GetSpec())
	if !ok {
		return
	}
	sameApex := false
	for _, other := range ix.zones().apexZones[apex] {
		if other != r.ref.Name {
			e := r.addf("spec.zone", z.GetSpec().GetZone(), "same apex as GslbZone %q", other)
			e.other = resource.Ref{Kind: v1.Kind_KIND_GSLB_ZONE, Name: other}
			sameApex = true
		}
	}
	for i, rec := range z.GetSpec().GetRecords() {
		if rec.GetName() == "" {
			continue
		}
		owner, problem := ownerName(rec.GetName(), apex)
		if problem != "" || owner == apex {
			continue
		}
		inner, ok := ix.apexZone[owner]
		if !ok || inner == r.ref.Name {
			continue
		}
		if rec.GetType() == v1.RecordType_RECORD_TYPE_NS {
			r.addf(idx("spec.records", i)+".name", rec.GetName(),
				"%q is the apex of GslbZone %q, served here, which answers for it with its own name servers: remove the delegation", owner, inner)
		} else {
			r.addf(idx("spec.records", i)+".name", rec.GetName(),
				"%q is the apex of GslbZone %q, served here, which answers for it: put the record in that zone", owner, inner)
		}
	}
	crossZoneCNAMEs(r, z, apex, ix)
	crossZoneGlueRequired(r, z, apex, ix)
	if !sameApex {
		// Every record would be another zone's too: the apex says why.
		crossZoneRRsets(r, z, apex, ix)
		crossZoneGlue(r, z, apex, ix)
		crossZoneCuts(r, z, apex, ix)
	}
}

// crossZoneCuts refuses static records one zone holds at or below another
// zone's delegation (NS records below its apex, which may reach into a
// zone nested in it), on either zone: DNS servers answer a referral there,
// and never serve them. The A and AAAA records of the delegation's name
// servers below it are its glue, and stay.
func crossZoneCuts(r report, z *v1.GslbZone, apex string, ix *index) {
	typeName := func(t v1.RecordType) string { return strings.TrimPrefix(t.String(), "RECORD_TYPE_") }
	hidden := func(owner, cut string, t v1.RecordType, targets map[string]bool) bool {
		switch {
		case owner == cut:
			return t != v1.RecordType_RECORD_TYPE_NS && t != v1.RecordType_RECORD_TYPE_DS
		case t == v1.RecordType_RECORD_TYPE_A || t == v1.RecordType_RECORD_TYPE_AAAA:
			return !targets[owner]
		}
		return true
	}
	recs := z.GetSpec().GetRecords()
	for i, rec := range recs {
		owner, problem := ownerName(rec.GetName(), apex)
		if rec.GetName() == "" || problem != "" {
			continue
		}
		path := idx("spec.records", i) + ".name"
		// This zone's record under another zone's delegation.
		isCut := func(n string) bool { zn, ok := ix.cutZones[n]; return ok && zn != r.ref.Name }
		if cut, at := CutAbove(owner, apex, isCut); cut != "" {
			other := ix.cutZones[cut]
			if hidden(owner, cut, rec.GetType(), ix.cutTargets(ix.st.Zones[other], ix.zoneApex[other], cut)) {
				how := "below the delegation at %q of GslbZone %q: the child zone answers for it"
				if at {
					how = "at the delegation at %q of GslbZone %q: a zone cut holds only NS and DS records"
				}
				e := r.addf(path, rec.GetName(), how, cut, other)
				e.other = resource.Ref{Kind: v1.Kind_KIND_GSLB_ZONE, Name: other}
			}
		}
		// Another zone's records under this zone's delegation.
		if _, served := ix.apexZone[owner]; rec.GetType() != v1.RecordType_RECORD_TYPE_NS || owner == apex || served {
			continue // crossZone refuses a delegation of another zone's apex
		}
		targets := ix.cutTargets(z, apex, owner)
		type found struct{ owner, zone string }
		types := map[found][]string{}
		for _, key := range ix.staticAtOrBelow(owner) {
			if !hidden(key.owner, owner, key.typ, targets) {
				continue
			}
			for _, zn := range ix.staticZones[key] {
				if zn != r.ref.Name {
					f := found{key.owner, zn}
					types[f] = append(types[f], typeName(key.typ))
				}
			}
		}
		if len(types) == 0 {
			continue
		}
		first := slices.MinFunc(slices.Collect(maps.Keys(types)), func(a, b found) int {
			return cmp.Or(cmp.Compare(len(a.owner), len(b.owner)), cmp.Compare(a.owner, b.owner), cmp.Compare(a.zone, b.zone))
		})
		ts := types[first]
		slices.Sort(ts)
		var e *FieldError
		if first.owner == owner {
			e = r.addf(path, rec.GetName(), "the delegation of %q hides the static %s records of GslbZone %q there: a zone cut holds only NS and DS records; remove them or the delegation",
				owner, strings.Join(ts, ", "), first.zone)
		} else {
			e = r.addf(path, rec.GetName(), "the delegation of %q hides the static %s records of GslbZone %q at %q: the child zone answers below it; remove them or the delegation",
				owner, strings.Join(ts, ", "), first.zone, first.owner)
		}
		e.other = resource.Ref{Kind: v1.Kind_KIND_GSLB_ZONE, Name: first.zone}
	}
}

// cutTargets returns the names of the name servers a zone's delegation at
// cut names, canonical. The zone's NS records are read once per index,
// for all its delegations; the map returned is not to be changed.
func (ix *index) cutTargets(z *v1.GslbZone, apex, cut string) map[string]bool {
	if ix.targets == nil {
		ix.targets = map[*v1.GslbZone]map[string]map[string]bool{}
	}
	byCut, ok := ix.targets[z]
	if !ok {
		byCut = nsTargets(z, apex)
		ix.targets[z] = byCut
	}
	return byCut[cut]
}

// nsTargets returns the names of the name servers a zone's NS records
// name, canonical, by their owner.
func nsTargets(z *v1.GslbZone, apex string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, rec := range z.GetSpec().GetRecords() {
		owner, problem := ownerName(rec.GetName(), apex)
		if rec.GetName() == "" || problem != "" || rec.GetType() != v1.RecordType_RECORD_TYPE_NS {
			continue
		}
		if out[owner] == nil {
			out[owner] = map[string]bool{}
		}
		for _, v := range rec.GetValues() {
			if rr, err := RecordData(v1.RecordType_RECORD_TYPE_NS, owner, 0, v, apex); err == nil {
				out[owner][strings.ToLower(rr.(*dns.NS).Ns)] = true
			}
		}
	}
	return out
}

// glueClash is the end of the message for different addresses of two
// zones at one name: DNS servers answer one zone's, which one depending
// on the order of the zones.
const glueClash = "which addresses DNS servers answer there would depend on the order of the zones; list the same addresses, or list them in one zone only"

// crossZoneGlue refuses a name server's addresses where another zone holds
// static records or name server addresses of the same type with other
// values, and a static A or AAAA record where another zone's name server
// is answered with other addresses. Within one zone a static record
// answers instead of the addresses; across zones the answer would follow
// the order the zones are compiled in.
func crossZoneGlue(r report, z *v1.GslbZone, apex string, ix *index) {
	clash := func(e *FieldError, other string) {
		e.other = resource.Ref{Kind: v1.Kind_KIND_GSLB_ZONE, Name: other}
	}
	for i, ns := range z.GetSpec().GetNameServers() {
		n, problem := zoneName(ns.GetName(), apex)
		if ns.GetName() == "" || problem != "" || !inZone(n, apex) {
			continue
		}
		mine := addrSet(ns.GetAddresses())
		for key := range nameServerGlue([]*v1.NameServer{ns}, apex) {
			typ := strings.TrimPrefix(key.typ.String(), "RECORD_TYPE_")
			path := idx("spec.nameServers", i) + ".addresses"
			for _, other := range ix.staticZones[key] {
				if other != r.ref.Name && !sameFamily(mine, zoneAddrs(ix.st.Zones[other], ix.zoneApex[other], key, false), key.typ) {
					clash(r.addf(path, "", "%q holds static %s records of other addresses in GslbZone %q: %s", n, typ, other, glueClash), other)
				}
			}
			for _, other := range ix.glueZones[key] {
				if other != r.ref.Name && !sameFamily(mine, zoneAddrs(ix.st.Zones[other], ix.zoneApex[other], key, true), key.typ) {
					clash(r.addf(path, "", "%q is a name server of GslbZone %q, answered with other %s addresses: %s", n, other, typ, glueClash), other)
				}
			}
		}
	}
	for i, rec := range z.GetSpec().GetRecords() {
		t := rec.GetType()
		if rec.GetName() == "" || t != v1.RecordType_RECORD_TYPE_A && t != v1.RecordType_RECORD_TYPE_AAAA {
			continue
		}
		owner, problem := ownerName(rec.GetName(), apex)
		if problem != "" {
			continue
		}
		key := rrKey{owner, t}
		for _, other := range ix.glueZones[key] {
			if other != r.ref.Name && !sameFamily(addrSet(rec.GetValues()), zoneAddrs(ix.st.Zones[other], ix.zoneApex[other], key, true), t) {
				clash(r.addf(idx("spec.records", i)+".name", rec.GetName(), "%q is a name server of GslbZone %q, answered with other %s addresses: %s",
					owner, other, strings.TrimPrefix(t.String(), "RECORD_TYPE_"), glueClash), other)
			}
		}
	}
}

// addrSet is the set of the addresses that parse among ss.
func addrSet(ss []string) map[netip.Addr]bool {
	out := map[netip.Addr]bool{}
	for _, s := range ss {
		if a, err := netip.ParseAddr(s); err == nil {
			out[a.Unmap()] = true
		}
	}
	return out
}

// zoneAddrs is the set of addresses a zone answers at key's name and type
// from its name servers (glue) or its static records.
func zoneAddrs(z *v1.GslbZone, apex string, key rrKey, glue bool) map[netip.Addr]bool {
	var ss []string
	if glue {
		for _, ns := range z.GetSpec().GetNameServers() {
			if n, problem := zoneName(ns.GetName(), apex); ns.GetName() != "" && problem == "" && n == key.owner {
				ss = append(ss, ns.GetAddresses()...)
			}
		}
	} else {
		for _, rec := range z.GetSpec().GetRecords() {
			if owner, problem := ownerName(rec.GetName(), apex); rec.GetName() != "" && problem == "" && owner == key.owner && rec.GetType() == key.typ {
				ss = append(ss, rec.GetValues()...)
			}
		}
	}
	return addrSet(ss)
}

// sameFamily reports whether a and b hold the same addresses of the family
// of typ (A or AAAA).
func sameFamily(a, b map[netip.Addr]bool, typ v1.RecordType) bool {
	of := func(m map[netip.Addr]bool) map[netip.Addr]bool {
		out := map[netip.Addr]bool{}
		for x := range m {
			if x.Is4() == (typ == v1.RecordType_RECORD_TYPE_A) {
				out[x] = true
			}
		}
		return out
	}
	return maps.Equal(of(a), of(b))
}

// crossZoneRRsets refuses a static record at the name and type of another
// zone's static record (one above this one, reaching into it, or one
// below): DNS servers answer a name's records of every zone together, as
// one RRset, whose TTLs must agree (RFC 2181 section 5.2).
func crossZoneRRsets(r report, z *v1.GslbZone, apex string, ix *index) {
	for i, rec := range z.GetSpec().GetRecords() {
		owner, problem := ownerName(rec.GetName(), apex)
		if rec.GetName() == "" || problem != "" || rec.GetType() == v1.RecordType_RECORD_TYPE_CNAME {
			continue
		}
		if other := otherZone(ix.staticZones[rrKey{owner, rec.GetType()}], r.ref.Name); other != "" {
			e := r.addf(idx("spec.records", i)+".name", rec.GetName(),
				"%q %s is a static record of GslbZone %q too: DNS servers would answer one RRset of both zones' values, with two TTLs; list every value in one record of one zone",
				owner, strings.TrimPrefix(rec.GetType().String(), "RECORD_TYPE_"), other)
			e.other = resource.Ref{Kind: v1.Kind_KIND_GSLB_ZONE, Name: other}
		}
	}
}

// crossZoneCNAMEs refuses a static CNAME at a name where another zone (one
// above this one, reaching into it, or one below) holds static records or
// name server addresses, those of this zone where another holds a static
// CNAME, and a name server with addresses at a static CNAME of any zone:
// DNS servers answer a name's records of every zone together, and a CNAME
// stands alone.
func crossZoneCNAMEs(r report, z *v1.GslbZone, apex string, ix *index) {
	for i, rec := range z.GetSpec().GetRecords() {
		owner, problem := ownerName(rec.GetName(), apex)
		if rec.GetName() == "" || problem != "" {
			continue
		}
		path := idx("spec.records", i) + ".name"
		if rec.GetType() != v1.RecordType_RECORD_TYPE_CNAME {
			if other := otherZone(ix.staticZones[rrKey{owner, v1.RecordType_RECORD_TYPE_CNAME}], r.ref.Name); other != "" {
				r.addf(path, rec.GetName(), "%q is a static CNAME in GslbZone %q: a CNAME must stand alone", owner, other)
			}
			continue
		}
		for t := v1.RecordType_RECORD_TYPE_A; t <= v1.RecordType_RECORD_TYPE_DS; t++ {
			if t == v1.RecordType_RECORD_TYPE_CNAME {
				continue
			}
			if other := otherZone(ix.staticZones[rrKey{owner, t}], r.ref.Name); other != "" {
				r.addf(path, rec.GetName(), "CNAME beside the static %s records of GslbZone %q at %q: a CNAME must stand alone", strings.TrimPrefix(t.String(), "RECORD_TYPE_"), other, owner)
				break
			}
			if other := otherZone(ix.glueZones[rrKey{owner, t}], r.ref.Name); other != "" {
				r.addf(path, rec.GetName(), "CNAME at %q, a name server of GslbZone %q answered with its addresses: a CNAME must stand alone", owner, other)
				break
			}
		}
	}
	for i, ns := range z.GetSpec().GetNameServers() {
		n, problem := zoneName(ns.GetName(), apex)
		if ns.GetName() == "" || problem != "" || !inZone(n, apex) || len(ns.GetAddresses()) == 0 {
			continue
		}
		if zs := ix.staticZones[rrKey{n, v1.RecordType_RECORD_TYPE_CNAME}]; len(zs) > 0 {
			r.addf(idx("spec.nameServers", i)+".name", ns.GetName(), "%q is a static CNAME in GslbZone %q: a name server is not an alias (RFC 2181 section 10.3), and its addresses cannot stand beside a CNAME", n, zs[0])
		}
	}
	// The targets of NS, MX and SRV records are not aliases either. Only
	// targets inside the zone are looked at: a zone whose CNAME one of
	// them is, at or below this one, has this zone checked again when it
	// is applied.
	for i, rec := range z.GetSpec().GetRecords() {
		switch rec.GetType() {
		case v1.RecordType_RECORD_TYPE_NS, v1.RecordType_RECORD_TYPE_MX, v1.RecordType_RECORD_TYPE_SRV:
		default:
			continue
		}
		for j, v := range rec.GetValues() {
			rr, err := RecordData(rec.GetType(), apex, 0, v, apex)
			if err != nil {
				continue
			}
			target := strings.ToLower(targetName(rr))
			if zs := ix.staticZones[rrKey{target, v1.RecordType_RECORD_TYPE_CNAME}]; len(zs) > 0 && inZone(target, apex) {
				r.addf(idx(idx("spec.records", i)+".values", j), v, "%q is a static CNAME in GslbZone %q: the target of an %s record is not an alias (RFC 2181 section 10.3)",
					target, zs[0], strings.TrimPrefix(rec.GetType().String(), "RECORD_TYPE_"))
			}
		}
	}
}

// otherZone returns the first of zones that is not zone, "" if none.
func otherZone(zones []string, zone string) string {
	for _, z := range zones {
		if z != zone {
			return z
		}
	}
	return ""
}
