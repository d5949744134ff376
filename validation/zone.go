package validation

import (
	"fmt"
	"strings"

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
	checkSOA(r, spec.GetSoa())
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

// checkSOA requires the SOA's name server and mailbox names.
func checkSOA(r report, soa *v1.Soa) {
	if soa == nil {
		r.add("spec.soa", "", "required: mname and rname")
		return
	}
	checkDomain(r, "spec.soa.mname", soa.GetMname())
	rname := soa.GetRname()
	if at := strings.IndexByte(rname, '@'); at >= 0 {
		r.addf("spec.soa.rname", rname, "a mailbox is written as a name; did you mean %q?",
			fqdn(rname[:at]+"."+rname[at+1:]))
		return
	}
	checkDomain(r, "spec.soa.rname", rname)
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

// checkNameServers requires at least one name server, refuses repeats, and
// requires glue for name servers inside the zone.
func checkNameServers(r report, nss []*v1.NameServer, apex string) {
	if len(nss) == 0 {
		r.add("spec.nameServers", "", "at least one name server required")
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
		n := fqdn(name)
		if j, dup := seen[n]; dup {
			r.addf(path+".name", name, "duplicate of spec.nameServers[%d]", j)
			continue
		}
		seen[n] = i
		if apex != "" && inZone(n, apex) && len(ns.GetAddresses()) == 0 {
			r.add(path+".addresses", "", fmt.Sprintf("glue required: %q is inside the zone", n))
		}
	}
}

// crossZone refuses two zones with the same apex.
func crossZone(r report, z *v1.GslbZone, ix *index) {
	apex, ok := zoneApex(z.GetSpec())
	if !ok {
		return
	}
	for _, other := range ix.zones().zoneNames {
		if other != r.ref.Name && ix.zoneApex[other] == apex {
			e := r.addf("spec.zone", z.GetSpec().GetZone(), "same apex as GslbZone %q", other)
			e.other = resource.Ref{Kind: v1.Kind_KIND_GSLB_ZONE, Name: other}
		}
	}
}
