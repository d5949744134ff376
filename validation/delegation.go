package validation

import (
	"strings"

	"github.com/miekg/dns"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// staticOwner is a static record with its owner name resolved.
type staticOwner struct {
	i     int
	owner string
	rec   *v1.StaticRecord
}

// checkDelegations applies the rules of NS records, which delegate child
// zones: not at the apex (spec.nameServers are the zone's own), only NS
// and DS at a cut (DS nowhere else), and below a cut only the A and AAAA
// glue of its name servers. crossZoneGlueRequired requires glue for every
// name server inside the child zone, which another zone served here may
// hold.
func checkDelegations(r report, recs []*v1.StaticRecord, apex string) {
	var all, ds []staticOwner
	cuts := map[string]staticOwner{}
	for i, rec := range recs {
		owner, problem := ownerName(rec.GetName(), apex)
		if rec.GetName() == "" || problem != "" {
			continue
		}
		so := staticOwner{i, owner, rec}
		all = append(all, so)
		if rec.GetType() == v1.RecordType_RECORD_TYPE_DS {
			ds = append(ds, so)
		}
		if rec.GetType() != v1.RecordType_RECORD_TYPE_NS {
			continue
		}
		if owner == apex {
			r.add(idx("spec.records", i)+".type", rec.GetType().String(), "NS at the zone apex: list the zone's name servers in spec.nameServers")
			continue
		}
		cuts[owner] = so
	}
	for _, so := range ds {
		if _, ok := cuts[so.owner]; !ok {
			r.add(idx("spec.records", so.i)+".type", so.rec.GetType().String(), "DS only at a delegation: add the child zone's NS records at "+so.rec.GetName())
		}
	}
	if len(cuts) == 0 {
		return
	}
	targets := map[string]map[string]bool{} // cut owner → its name servers
	for owner, cut := range cuts {
		targets[owner] = map[string]bool{}
		for _, v := range cut.rec.GetValues() {
			if rr, err := RecordData(v1.RecordType_RECORD_TYPE_NS, owner, 0, v, apex); err == nil {
				targets[owner][strings.ToLower(rr.(*dns.NS).Ns)] = true
			}
		}
	}
	for _, so := range all {
		path := idx("spec.records", so.i)
		cut, at := CutAbove(so.owner, apex, func(n string) bool { _, ok := cuts[n]; return ok })
		if cut == "" {
			continue
		}
		c := cuts[cut]
		typ := so.rec.GetType()
		switch {
		case at && (typ == v1.RecordType_RECORD_TYPE_NS || typ == v1.RecordType_RECORD_TYPE_DS):
		case at:
			r.addf(path+".name", so.rec.GetName(), "beside the delegation at spec.records[%d]: a zone cut holds only NS and DS records", c.i)
		case (typ == v1.RecordType_RECORD_TYPE_A || typ == v1.RecordType_RECORD_TYPE_AAAA) && targets[cut][so.owner]:
		case typ == v1.RecordType_RECORD_TYPE_A || typ == v1.RecordType_RECORD_TYPE_AAAA:
			r.addf(path+".name", so.rec.GetName(), "below the delegation at spec.records[%d] and not one of its name servers: only their glue may be here", c.i)
		default:
			r.addf(path+".name", so.rec.GetName(), "below the delegation at spec.records[%d]: the child zone answers for it", c.i)
		}
	}
}

// CutAbove returns the zone cut (a name for which isCut holds, strictly
// below apex) at or above owner, and whether owner is the cut itself; ""
// when there is none.
func CutAbove(owner, apex string, isCut func(string) bool) (string, bool) {
	for n := owner; n != apex && inZone(n, apex); {
		if isCut(n) {
			return n, n == owner
		}
		i := strings.IndexByte(n, '.')
		if i < 0 || i == len(n)-1 {
			break
		}
		n = n[i+1:]
	}
	return "", false
}
