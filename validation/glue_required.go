package validation

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// crossZoneGlueRequired requires an address for every name server that
// lies inside the zone (spec.nameServers) or inside a zone it delegates
// (an NS record's value): resolvers cannot reach it otherwise. The zone
// itself may list it (the name server's addresses, a static A or AAAA
// record below the delegation), or another zone served here may answer
// it: DNS servers answer a name's records of every zone together, and
// send them as the glue of a referral (a zone nested in this one holding
// its own name servers' addresses, say). Deleting or changing that other
// zone is checked against this one again.
func crossZoneGlueRequired(r report, z *v1.GslbZone, apex string, ix *index) {
	answered := func(n string) bool {
		for _, t := range []v1.RecordType{v1.RecordType_RECORD_TYPE_A, v1.RecordType_RECORD_TYPE_AAAA} {
			key := rrKey{n, t}
			if otherZone(ix.staticZones[key], r.ref.Name) != "" || otherZone(ix.glueZones[key], r.ref.Name) != "" {
				return true
			}
		}
		return false
	}
	// What a zone nested in this one, which answers for the name, says
	// of it; "" when none holds the name.
	served := func(n string) string {
		if inner := ix.zoneInside(n, apex); inner != "" && inner != r.ref.Name {
			return fmt.Sprintf("; GslbZone %q, served here, answers for it and holds no address there", inner)
		}
		return ""
	}
	for i, ns := range z.GetSpec().GetNameServers() {
		name := ns.GetName()
		n, problem := zoneName(name, apex)
		if name == "" || problem != "" || !inZone(n, apex) || len(ns.GetAddresses()) > 0 || answered(n) {
			continue
		}
		msg := fmt.Sprintf("glue required: %q is inside the zone", n) + served(n)
		if !strings.HasSuffix(name, ".") {
			msg += fmt.Sprintf(" (a name without a trailing dot is relative to the zone; write %q for a name outside it)", strings.ToLower(name)+".")
		}
		r.add(idx("spec.nameServers", i)+".addresses", "", msg)
	}
	recs := z.GetSpec().GetRecords()
	glued := map[string]bool{} // names with this zone's static A or AAAA records
	for _, rec := range recs {
		if t := rec.GetType(); t == v1.RecordType_RECORD_TYPE_A || t == v1.RecordType_RECORD_TYPE_AAAA {
			if owner, problem := ownerName(rec.GetName(), apex); rec.GetName() != "" && problem == "" {
				glued[owner] = true
			}
		}
	}
	for i, rec := range recs {
		owner, problem := ownerName(rec.GetName(), apex)
		if rec.GetName() == "" || problem != "" || owner == apex || rec.GetType() != v1.RecordType_RECORD_TYPE_NS {
			continue
		}
		for j, v := range rec.GetValues() {
			rr, err := RecordData(v1.RecordType_RECORD_TYPE_NS, owner, 0, v, apex)
			if err != nil {
				continue
			}
			ns := strings.ToLower(rr.(*dns.NS).Ns)
			if !inZone(ns, owner) || glued[ns] || answered(ns) {
				continue
			}
			r.add(idx(idx("spec.records", i)+".values", j), v,
				fmt.Sprintf("glue required: %q is inside the delegated zone; add its A or AAAA record", ns))
		}
	}
}
