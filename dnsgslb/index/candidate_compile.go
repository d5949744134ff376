package index

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/miekg/dns"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/validation"
)

func (rec *record) addCandidates(spec *v1.GslbRecordSpec, snap *v1.GslbSnapshot, opts Options) error {
	want4, both := rec.qtype == dns.TypeA, rec.qtype == dns.TypeHTTPS
	family := func(field string, addrs []string) ([]netip.Addr, error) {
		var out []netip.Addr
		for i, s := range addrs {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("field %s[%d]: bad address %q: %w", field, i, s, err)
			}
			if a = a.Unmap(); both || a.Is4() == want4 {
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
			var addrs []netip.Addr
			var host string
			var err error
			if as := o.GetSpec().GetAddresses(); len(as) == 1 && validation.IsOriginName(as[0]) {
				if host, err = canonical(as[0]); err != nil {
					return fmt.Errorf("Origin %q field addresses[0]: %w", name, err)
				}
			} else if addrs, err = family("addresses", as); err != nil {
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
				name: name, location: location(o.GetSpec().GetLocation()), addrs: addrs, host: host,
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
