package validation

import (
	"net/netip"
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// index holds what the cross-object rules look up, computed from the
// objects that are valid enough to index. Each part is built the first
// time a rule asks for it, so a check that touches few objects does not
// pay for the parts it never reads. It is not safe for concurrent use.
type index struct {
	st *resource.State

	owners       *prefixOwners // announceable prefixes by owning service
	zoneNames    []string
	zoneApex     map[string]string                           // by zone name
	apexes       map[string]string                           // apexOf's answers before zoneApex is built, "" for none
	apexZone     map[string]string                           // zone name by apex (the last one, by name)
	apexZones    map[string][]string                         // every zone name by apex, sorted
	static       map[string]map[rrKey]bool                   // static RRsets by zone name
	staticZones  map[rrKey][]string                          // the zones holding each static RRset, sorted
	staticBelow  map[string][]rrKey                          // the keys of staticZones by each delegated name at or above their owner
	glueZones    map[rrKey][]string                          // the zones answering each in-zone name server's address RRset, sorted
	cuts         map[string]map[string]bool                  // delegated names (NS below the apex) by zone name
	cutZones     map[string]string                           // the (first) zone delegating each delegated name
	records      map[rrKey][]string                          // GslbRecord names by owner and type
	targets      map[*v1.GslbZone]map[string]map[string]bool // by zone, its NS records' targets by owner, as cutTargets reads them
	popsByRegion map[string][]string                         // Pop names by region, regions not empty
	cacheNets    map[netip.Prefix][]string                   // Pop names by cache network, as DNS servers look it up, sorted
}

func newIndex(st *resource.State) *index { return &index{st: st} }

// prefixOwners returns the announceable prefixes by owning service.
func (ix *index) prefixOwners() *prefixOwners {
	if ix.owners == nil {
		ix.owners = &prefixOwners{}
		for name, s := range ix.st.Services {
			for _, str := range s.GetSpec().GetPrefixes() {
				if p, ok := announceable(str, s.GetSpec().GetAllowLongPrefixes()); ok {
					ix.owners.add(p, name)
				}
			}
		}
		ix.owners.seal()
	}
	return ix.owners
}

// zones indexes the zones: their names, apexes and static RRsets.
func (ix *index) zones() *index {
	if ix.zoneApex == nil {
		ix.zoneNames = resource.SortedNames(ix.st.Zones)
		n, records := len(ix.zoneNames), 0
		for _, z := range ix.st.Zones {
			records += len(z.GetSpec().GetRecords())
		}
		ix.zoneApex = make(map[string]string, n)
		ix.apexZone = make(map[string]string, n)
		ix.apexZones = make(map[string][]string, n)
		ix.static = make(map[string]map[rrKey]bool, n)
		ix.staticZones = make(map[rrKey][]string, records)
		ix.glueZones = map[rrKey][]string{}
		ix.cuts = map[string]map[string]bool{}
		ix.cutZones = map[string]string{}
		for _, name := range ix.zoneNames {
			z := ix.st.Zones[name]
			apex, ok := zoneApex(z.GetSpec())
			if !ok {
				continue
			}
			ix.zoneApex[name] = apex
			ix.apexZone[apex] = name
			ix.apexZones[apex] = append(ix.apexZones[apex], name)
			static := make(map[rrKey]bool, len(z.GetSpec().GetRecords()))
			ix.static[name] = static
			ix.cuts[name] = map[string]bool{}
			for key := range nameServerGlue(z.GetSpec().GetNameServers(), apex) {
				ix.glueZones[key] = append(ix.glueZones[key], name)
			}
			for _, rec := range z.GetSpec().GetRecords() {
				if owner, problem := ownerName(rec.GetName(), apex); rec.GetName() != "" && problem == "" {
					key := rrKey{owner, rec.GetType()}
					if !static[key] {
						ix.staticZones[key] = append(ix.staticZones[key], name)
					}
					static[key] = true
					if rec.GetType() == v1.RecordType_RECORD_TYPE_NS && owner != apex {
						ix.cuts[name][owner] = true
						if _, ok := ix.cutZones[owner]; !ok {
							ix.cutZones[owner] = name
						}
					}
				}
			}
		}
	}
	return ix
}

// nameServerGlue returns the A and AAAA RRsets a zone's name servers
// inside it are answered with (their addresses), as DNS servers build
// them (names resolved by zoneName).
func nameServerGlue(nss []*v1.NameServer, apex string) map[rrKey]bool {
	out := map[rrKey]bool{}
	for _, ns := range nss {
		n, problem := zoneName(ns.GetName(), apex)
		if ns.GetName() == "" || problem != "" || !inZone(n, apex) {
			continue
		}
		for _, s := range ns.GetAddresses() {
			if a, err := netip.ParseAddr(s); err == nil {
				t := v1.RecordType_RECORD_TYPE_AAAA
				if a.Unmap().Is4() {
					t = v1.RecordType_RECORD_TYPE_A
				}
				out[rrKey{n, t}] = true
			}
		}
	}
	return out
}

// zoneInside returns the GslbZone whose apex is owner or a name above it
// and below apex, "" if none: that zone, not the one of apex, answers for
// owner.
func (ix *index) zoneInside(owner, apex string) string {
	ix.zones()
	for n := owner; n != apex && inZone(n, apex); {
		if z, ok := ix.apexZone[n]; ok {
			return z
		}
		i := strings.IndexByte(n, '.')
		if i < 0 || i == len(n)-1 {
			break
		}
		n = n[i+1:]
	}
	return ""
}

// staticAtOrBelow returns the keys of the static RRsets (of staticZones)
// whose owner is cut or a name below it, in no particular order. It is
// quick for a delegated name (a key of cutZones).
func (ix *index) staticAtOrBelow(cut string) []rrKey {
	ix.zones()
	if _, ok := ix.cutZones[cut]; !ok {
		var out []rrKey // not indexed: look through them all
		for key := range ix.staticZones {
			if inZone(key.owner, cut) {
				out = append(out, key)
			}
		}
		return out
	}
	if ix.staticBelow == nil {
		ix.staticBelow = map[string][]rrKey{}
		for key := range ix.staticZones {
			// Every name inZone(key.owner, m) holds for but the root:
			// the owner, and each suffix after one of its dots.
			for m := key.owner; ; {
				if _, ok := ix.cutZones[m]; ok {
					ix.staticBelow[m] = append(ix.staticBelow[m], key)
				}
				i := strings.IndexByte(m, '.')
				if i < 0 || i == len(m)-1 {
					break
				}
				m = m[i+1:]
			}
		}
	}
	return ix.staticBelow[cut]
}

// recordsByKey returns the GslbRecord names by owner and type.
func (ix *index) recordsByKey() map[rrKey][]string {
	if ix.records == nil {
		ix.records = map[rrKey][]string{}
		for _, name := range resource.SortedNames(ix.st.Records) {
			if key, ok := ix.recordKey(ix.st.Records[name]); ok {
				ix.records[key] = append(ix.records[key], name)
			}
		}
	}
	return ix.records
}

// regionPops returns the names of the PoPs in a region.
func (ix *index) regionPops(region string) []string {
	if ix.popsByRegion == nil {
		ix.popsByRegion = map[string][]string{}
		for name, p := range ix.st.Pops {
			if region := p.GetSpec().GetLocation().GetRegion(); region != "" {
				ix.popsByRegion[region] = append(ix.popsByRegion[region], name)
			}
		}
	}
	return ix.popsByRegion[region]
}

// cacheNetworks returns the Pop names by cache network, each network as
// DNS servers look it up (no host bits, an IPv4-mapped network as the IPv4
// one), the names sorted.
func (ix *index) cacheNetworks() map[netip.Prefix][]string {
	if ix.cacheNets == nil {
		ix.cacheNets = map[netip.Prefix][]string{}
		for _, name := range resource.SortedNames(ix.st.Pops) {
			seen := map[netip.Prefix]bool{}
			for _, s := range ix.st.Pops[name].GetSpec().GetCacheNetworks() {
				if p, ok := lookupNetwork(s); ok && !seen[p] {
					seen[p] = true
					ix.cacheNets[p] = append(ix.cacheNets[p], name)
				}
			}
		}
	}
	return ix.cacheNets
}

// lookupNetwork is a cache network as DNS servers look it up: without host
// bits, an IPv4-mapped network as the IPv4 network it maps.
func lookupNetwork(s string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	p = p.Masked()
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p, true
}

// apexOf returns the apex of the zone named zone, as zones() indexes it,
// without indexing every zone's records when nothing else asked for them.
func (ix *index) apexOf(zone string) (string, bool) {
	if ix.zoneApex != nil {
		apex, ok := ix.zoneApex[zone]
		return apex, ok
	}
	if ix.apexes == nil {
		ix.apexes = map[string]string{}
	}
	if apex, ok := ix.apexes[zone]; ok {
		return apex, apex != ""
	}
	apex, _ := zoneApex(ix.st.Zones[zone].GetSpec())
	ix.apexes[zone] = apex
	return apex, apex != ""
}

// recordKey returns a GslbRecord's canonical owner name and type, when its
// zone is known and its name is valid.
func (ix *index) recordKey(rec *v1.GslbRecord) (rrKey, bool) {
	spec := rec.GetSpec()
	apex, ok := ix.apexOf(spec.GetZone())
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

// crossChecked, when not nil, is told of each object crossCheckObject
// checks: tests count the work a check does with it.
var crossChecked func(resource.Ref)

// crossCheckObject applies the cross-object rules to one object of the
// state, whose index ix is.
func crossCheckObject(r report, o *v1.Object, st *resource.State, ix *index) {
	if crossChecked != nil {
		crossChecked(r.ref)
	}
	switch x := o.GetResource().(type) {
	case *v1.Object_Pop:
		crossPop(r, x.Pop, st)
		crossCacheNetworks(r, x.Pop, ix)
	case *v1.Object_AnycastService:
		crossService(r, x.AnycastService, st, ix)
	case *v1.Object_GslbZone:
		crossZone(r, x.GslbZone, ix)
	case *v1.Object_GslbRecord:
		crossRecord(r, x.GslbRecord, st, ix)
	}
}

// crossCacheNetworks refuses a cache network another Pop lists too: DNS
// servers place a network's clients at one PoP, the one whose name sorts
// last, which no one would guess.
func crossCacheNetworks(r report, p *v1.Pop, ix *index) {
	for i, s := range p.GetSpec().GetCacheNetworks() {
		n, ok := lookupNetwork(s)
		if !ok {
			continue
		}
		for _, other := range ix.cacheNetworks()[n] {
			if other != r.ref.Name {
				e := r.addf(idx("spec.cacheNetworks", i), s, "a cache network of Pop %q too: DNS servers place a network's clients at one PoP, and would pick one by name; list it at one PoP", other)
				e.other = resource.Ref{Kind: v1.Kind_KIND_POP, Name: other}
				break
			}
		}
	}
}
