package index

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/miekg/dns"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// maxScopeCells bounds the memory of per-leaf scope tables; past it a
// record's scope is its leaf's prefix length, which is correct but narrower.
const maxScopeCells = 1 << 26

func (ix *Index) newRecord(r *v1.GslbRecord, zones map[string]*zone, snap *v1.GslbSnapshot, opts Options) (*record, error) {
	spec := r.GetSpec()
	obj := r.GetMetadata().GetName()
	zn := zones[spec.GetZone()]
	if zn == nil {
		return nil, fmt.Errorf("GslbRecord %q field zone: no GslbZone %q in the snapshot", obj, spec.GetZone())
	}
	name, err := inZone(spec.GetName(), zn.apex)
	if err != nil {
		return nil, fmt.Errorf("GslbRecord %q field name: %w", obj, err)
	}
	rec := &record{
		object: obj, policy: spec.GetPolicy(), answers: int(spec.GetAnswers()), ttl: spec.GetTtl(),
		whenAllDown: spec.GetWhenAllDown(),
	}
	switch spec.GetType() {
	case v1.RecordType_RECORD_TYPE_A:
		rec.qtype = dns.TypeA
	case v1.RecordType_RECORD_TYPE_AAAA:
		rec.qtype = dns.TypeAAAA
	default:
		return nil, fmt.Errorf("GslbRecord %q field type: %q is not A or AAAA", obj, spec.GetType())
	}
	if rec.answers == 0 {
		rec.answers = 1
	}
	if rec.ttl == 0 {
		rec.ttl = zn.ttl
	}
	if rec.policy == v1.Policy_POLICY_UNSPECIFIED {
		rec.policy = v1.Policy_POLICY_NEAREST
	}
	if err := rec.addCandidates(spec, snap, opts); err != nil {
		return nil, fmt.Errorf("GslbRecord %q: %w", obj, err)
	}
	for i, ru := range spec.GetResidency() {
		rec.rules = append(rec.rules, compileRule(ru))
		for _, a := range ru.GetAllowed() {
			if !slices.ContainsFunc(rec.cands, func(c candidate) bool { return c.name == a }) && !slices.Contains(rec.missing, a) {
				return nil, fmt.Errorf("GslbRecord %q field residency[%d].allowed: %q is not a candidate of the record", obj, i, a)
			}
		}
	}
	n := ix.node(name, zn)
	if n.find(rec.qtype) != nil {
		return nil, fmt.Errorf("GslbRecord %q: %s %s is already defined", obj, name, typeName(rec.qtype))
	}
	rec.node = n
	n.rrsets = append(n.rrsets, rrset{qtype: rec.qtype, rec: rec})
	return rec, nil
}

func (rec *record) addCandidates(spec *v1.GslbRecordSpec, snap *v1.GslbSnapshot, opts Options) error {
	want4 := rec.qtype == dns.TypeA
	family := func(field string, addrs []string) ([]netip.Addr, error) {
		var out []netip.Addr
		for i, s := range addrs {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("field %s[%d]: bad address %q: %w", field, i, s, err)
			}
			if a = a.Unmap(); a.Is4() == want4 {
				out = append(out, a)
			}
		}
		return out, nil
	}
	if len(spec.GetOrigins()) > 0 {
		origins := map[string]*v1.SnapshotOrigin{}
		for _, o := range snap.GetOrigins() {
			origins[o.GetName()] = o
		}
		for _, name := range spec.GetOrigins() {
			o := origins[name]
			if o == nil {
				rec.missing = append(rec.missing, name)
				continue
			}
			addrs, err := family("addresses", o.GetSpec().GetAddresses())
			if err != nil {
				return fmt.Errorf("Origin %q %w", name, err)
			}
			dial := 100
			if o.GetSpec().TrafficDial != nil {
				dial = min(max(int(o.GetSpec().GetTrafficDial()), 0), 100)
			}
			reason := o.GetHealthReason()
			if reason == "" {
				reason = "quorum verdict down"
			}
			rec.cands = append(rec.cands, candidate{
				name: name, location: location(o.GetSpec().GetLocation()), addrs: addrs,
				weight: int(o.GetSpec().GetWeight()), dial: dial, healthy: o.GetHealthy(), healthReason: reason,
				slot: opts.OriginSlot(name),
			})
		}
		return nil
	}
	sel := spec.GetPops()
	var picked []*v1.SnapshotPop
	byName := map[string]*v1.SnapshotPop{}
	for _, p := range snap.GetPops() {
		byName[p.GetName()] = p
	}
	for _, name := range sel.GetNames() {
		if p := byName[name]; p != nil {
			picked = append(picked, p)
		} else {
			rec.missing = append(rec.missing, name)
		}
	}
	var rest []*v1.SnapshotPop
	for _, p := range snap.GetPops() {
		if slices.Contains(picked, p) {
			continue
		}
		if sel.GetAll() || slices.Contains(sel.GetRegions(), p.GetLocation().GetRegion()) {
			rest = append(rest, p)
		}
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].GetName() < rest[j].GetName() })
	for _, p := range append(picked, rest...) {
		addrs, err := family("unicast_addresses", p.GetUnicastAddresses())
		if err != nil {
			return fmt.Errorf("Pop %q %w", p.GetName(), err)
		}
		rec.cands = append(rec.cands, candidate{
			name: p.GetName(), pop: true, location: location(p.GetLocation()), addrs: addrs,
			weight: 1, dial: 100, healthy: p.GetInService(), healthReason: "not in service (drained or in maintenance)",
			slot: opts.OriginSlot(p.GetName()),
		})
	}
	return nil
}

func compileRule(ru *v1.ResidencyRule) rule {
	set := func(vs []string) map[string]bool {
		m := map[string]bool{}
		for _, v := range vs {
			m[strings.ToUpper(v)] = true
		}
		return m
	}
	r := rule{continents: set(ru.GetContinents()), countries: set(ru.GetCountries()), allowed: map[string]bool{}}
	for _, a := range ru.GetAllowed() {
		r.allowed[a] = true
	}
	var who []string
	who = append(who, ru.GetContinents()...)
	who = append(who, ru.GetCountries()...)
	r.text = fmt.Sprintf("%s -> %s", strings.Join(who, ","), strings.Join(ru.GetAllowed(), ","))
	return r
}

// compileRecord computes the record's answer for every location class and
// bucket, and its ECS scopes.
func (ix *Index) compileRecord(rec *record, opts Options) error {
	rec.hashed = rec.policy == v1.Policy_POLICY_WEIGHTED
	for _, c := range rec.cands {
		rec.hashed = rec.hashed || c.dial < 100
	}
	rec.classRC = make([]int32, len(ix.clients))
	byKey := map[string]int32{}
	for ci := range ix.clients {
		p := rec.prepare(&ix.clients[ci], nil)
		k := p.key()
		id, ok := byKey[k]
		if !ok {
			id = int32(len(rec.rcs))
			rec.rcs = append(rec.rcs, recordClass{prep: p})
			byKey[k] = id
		}
		rec.classRC[ci] = id
	}
	answers := map[string]*answer{}
	for i := range rec.rcs {
		rc := &rec.rcs[i]
		n := 1
		if rec.hashed {
			n = Buckets
		}
		varies := false
		for b := range n {
			a, err := rec.answerFor(rc.prep, rec.finish(rc.prep, b, nil), answers)
			if err != nil {
				return err
			}
			varies = varies || (b > 0 && a != rc.answers[0])
			rc.answers = append(rc.answers, a)
		}
		if !varies {
			rc.answers = rc.answers[:1]
		}
	}
	// Record classes that answer the same for every bucket are one block
	// for ECS scope, even when they rank the unanswered candidates apart.
	group := make([]int32, len(rec.rcs))
	groups := map[string]int32{}
	for i := range rec.rcs {
		k := fmt.Sprint(rec.rcs[i].answers)
		g, ok := groups[k]
		if !ok {
			g = int32(len(groups))
			groups[k] = g
		}
		group[i] = g
	}
	rec.locationFree = len(groups) == 1
	if !rec.locationFree {
		rec.scopes = ix.scopesFor(func(c int32) int32 { return group[rec.classRC[c]] })
	}
	return nil
}

// scopesFor returns the per-leaf scopes of a grouping of location classes,
// shared by every record that groups the classes the same way. Past
// maxScopeCells it returns nil tables: scopes are then the leaves' own.
func (ix *Index) scopesFor(group func(class int32) int32) [2][]uint8 {
	// Relabel groups by first appearance so that equal partitions of the
	// classes have equal keys.
	relabel := map[int32]int32{}
	canon := make([]byte, 0, 4*len(ix.clients))
	for c := range ix.clients {
		g := group(int32(c))
		r, ok := relabel[g]
		if !ok {
			r = int32(len(relabel))
			relabel[g] = r
		}
		canon = append(canon, byte(r), byte(r>>8), byte(r>>16), byte(r>>24))
	}
	key := string(canon)
	if s, ok := ix.scopeCache[key]; ok {
		return s
	}
	var s [2][]uint8
	cells := ix.table.Leaves(false) + ix.table.Leaves(true)
	if ix.scopeCells+cells > maxScopeCells {
		return s
	}
	ix.scopeCells += cells
	for f, v6 := range []bool{false, true} {
		s[f] = ix.table.Scopes(v6, group)
	}
	ix.scopeCache[key] = s
	return s
}

// answerFor packs (or reuses) the answer for a selection.
func (rec *record) answerFor(p prep, addrs []netip.Addr, seen map[string]*answer) (*answer, error) {
	key := fmt.Sprint(p.rcode, p.nodata, addrs)
	if a, ok := seen[key]; ok {
		return a, nil
	}
	name := rec.node.name
	var a *answer
	var err error
	switch {
	case p.rcode != 0:
		a, err = pack(name, p.rcode, nil, nil, nil)
	case p.nodata || len(addrs) == 0:
		z := rec.node.zone
		neg := *z.soa
		neg.Hdr.Ttl = min(z.soa.Minttl, z.soa.Hdr.Ttl)
		a, err = pack(name, dns.RcodeSuccess, nil, []dns.RR{&neg}, nil)
	default:
		rrs := make([]dns.RR, len(addrs))
		for i, ad := range addrs {
			rrs[i] = addrRR(name, rec.ttl, ad)
		}
		if a, err = pack(name, dns.RcodeSuccess, rrs, nil, nil); err != nil {
			return nil, err
		}
		a.addrs = addrs
		for _, ad := range addrs {
			for _, c := range rec.cands {
				if slices.Contains(c.addrs, ad) && !slices.Contains(a.slots, c.slot) {
					a.slots = append(a.slots, c.slot)
				}
			}
		}
	}
	if err != nil {
		return nil, err
	}
	seen[key] = a
	return a, nil
}
