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

// sources are the snapshot's origins and PoPs by name, and the addresses
// of each parsed once per family: every record naming them shares them.
type sources struct {
	origins map[string]*v1.SnapshotOrigin
	pops    map[string]*v1.SnapshotPop
	parsed  map[sourceAddrs][]netip.Addr
}

// sourceAddrs names one origin's or PoP's addresses of the family a
// record type answers with (both for HTTPS hints).
type sourceAddrs struct {
	name  string
	pop   bool
	qtype uint16
}

func newSources(snap *v1.GslbSnapshot, pops map[string]*v1.SnapshotPop) *sources {
	s := &sources{origins: make(map[string]*v1.SnapshotOrigin, len(snap.GetOrigins())), pops: pops, parsed: map[sourceAddrs][]netip.Addr{}}
	for _, o := range snap.GetOrigins() {
		s.origins[o.GetName()] = o
	}
	return s
}

// addrs parses the addresses an origin (field addresses) or a PoP (field
// unicast_addresses) answers a record type with, once; the slice is
// shared and must not be changed.
func (s *sources) addrs(name string, pop bool, qtype uint16, addrs []string) ([]netip.Addr, error) {
	k := sourceAddrs{name, pop, qtype}
	want4, both := qtype == dns.TypeA, qtype == dns.TypeHTTPS
	if out, ok := s.parsed[k]; ok {
		return out, nil
	}
	field := "addresses"
	if pop {
		field = "unicast_addresses"
	}
	var out []netip.Addr
	for i, v := range addrs {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, fmt.Errorf("field %s[%d]: bad address %q: %w", field, i, v, err)
		}
		if a = a.Unmap(); both || a.Is4() == want4 {
			out = append(out, a)
		}
	}
	s.parsed[k] = out
	return out, nil
}

func (rec *record) addCandidates(spec *v1.GslbRecordSpec, src *sources, opts Options) error {
	if len(spec.GetOrigins()) > 0 {
		rec.cands = make([]candidate, 0, len(spec.GetOrigins()))
		for _, name := range spec.GetOrigins() {
			o := src.origins[name]
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
			} else if addrs, err = src.addrs(name, false, rec.qtype, as); err != nil {
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
	for _, name := range sel.GetNames() {
		if p := src.pops[name]; p != nil {
			picked = append(picked, p)
		} else {
			rec.missing = append(rec.missing, name)
		}
	}
	var rest []*v1.SnapshotPop
	for _, p := range src.pops {
		if slices.Contains(picked, p) {
			continue
		}
		if sel.GetAll() || slices.Contains(sel.GetRegions(), p.GetLocation().GetRegion()) {
			rest = append(rest, p)
		}
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].GetName() < rest[j].GetName() })
	for _, p := range append(picked, rest...) {
		addrs, err := src.addrs(p.GetName(), true, rec.qtype, p.GetUnicastAddresses())
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
	r.key = fmt.Sprintf("%q %q %q", ru.GetContinents(), ru.GetCountries(), ru.GetAllowed())
	return r
}
