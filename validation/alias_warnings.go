package validation

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/proto"
)

// aliasWarnings warns of GslbRecords at one name that can answer one
// client a CNAME for one type and addresses for another: a name origin (a
// DNS name, answered with a CNAME when ranked first) among their
// candidates, and either rankings that differ between the records or an
// address origin that one type passes over for want of an address of its
// family. A resolver that caches the CNAME follows it for every type (a
// CNAME stands alone, RFC 1034 section 3.6.2), so the other records'
// answers reach only some clients. Names touched by the apply are
// checked: those of incoming GslbRecords, and of records naming an
// incoming Origin.
func aliasWarnings(incoming []*v1.Object, existing *resource.State) []string {
	if !slices.ContainsFunc(incoming, func(o *v1.Object) bool { return o.GetGslbRecord() != nil || o.GetOrigin() != nil }) {
		return nil // no name touched: spare the index of every record
	}
	merged := mergedState(incoming, existing)
	ix := newIndex(merged)
	byOwner := map[string][]string{}
	for key, names := range ix.recordsByKey() {
		byOwner[key.owner] = append(byOwner[key.owner], names...)
	}
	touched := map[string]bool{}
	var byOrigin map[string][]string // the owners of the records naming each origin
	for _, o := range incoming {
		switch {
		case o.GetGslbRecord() != nil:
			if key, ok := ix.recordKey(merged.Records[o.GetGslbRecord().GetMetadata().GetName()]); ok {
				touched[key.owner] = true
			}
		case o.GetOrigin() != nil:
			if byOrigin == nil {
				byOrigin = map[string][]string{}
				for owner, recs := range byOwner {
					for _, r := range recs {
						for _, name := range merged.Records[r].GetSpec().GetOrigins() {
							byOrigin[name] = append(byOrigin[name], owner)
						}
					}
				}
			}
			for _, owner := range byOrigin[o.GetOrigin().GetMetadata().GetName()] {
				touched[owner] = true
			}
		}
	}
	var out []string
	for _, owner := range slices.Sorted(maps.Keys(touched)) {
		recs := byOwner[owner]
		if len(recs) < 2 {
			continue
		}
		slices.Sort(recs)
		if w := aliasWarning(owner, recs, merged); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// aliasWarning is the warning for the GslbRecords recs at owner, or "".
func aliasWarning(owner string, recs []string, st *resource.State) string {
	var aliases []string
	for _, r := range recs {
		for _, name := range st.Records[r].GetSpec().GetOrigins() {
			if isNameOrigin(st.Origins[name]) && !slices.Contains(aliases, name) {
				aliases = append(aliases, name)
			}
		}
	}
	if len(aliases) == 0 {
		return ""
	}
	named := "Origin " + strings.Join(quoteAll(aliases), ", Origin ")
	first := st.Records[recs[0]]
	for _, r := range recs[1:] {
		if !sameRanking(first.GetSpec(), st.Records[r].GetSpec()) {
			return fmt.Sprintf("GslbRecord %q: spec.name %q: beside GslbRecord %q, which ranks other candidates, and %s is a DNS name answered with a CNAME: one client can get a CNAME for one type and addresses for the other, and a resolver that caches the CNAME follows it for both (a CNAME stands alone): give the records at one name the same origins, pops, policy, residency and whenAllDown",
				recs[0], owner, r, named)
		}
	}
	// The same ranking: an address origin is still passed over by the
	// types it has no address for.
	var types []v1.RecordType
	for _, r := range recs {
		types = append(types, st.Records[r].GetSpec().GetType())
	}
	for _, name := range first.GetSpec().GetOrigins() {
		o := st.Origins[name]
		if o == nil || isNameOrigin(o) {
			continue
		}
		var has4, has6 bool
		for _, s := range o.GetSpec().GetAddresses() {
			if a, err := netip.ParseAddr(s); err == nil {
				has4 = has4 || a.Unmap().Is4()
				has6 = has6 || !a.Unmap().Is4()
			}
		}
		usable := func(t v1.RecordType) bool {
			switch t {
			case v1.RecordType_RECORD_TYPE_A:
				return has4
			case v1.RecordType_RECORD_TYPE_AAAA:
				return has6
			}
			return has4 || has6
		}
		for _, t := range types[1:] {
			if usable(t) == usable(types[0]) {
				continue
			}
			with, without := types[0], t
			if !usable(types[0]) {
				with, without = t, types[0]
			}
			return fmt.Sprintf("Origin %q: spec.addresses: no address for %s records: at %q the %s record passes it over for another candidate, for some clients %s, a DNS name answered with a CNAME, where the %s record answers its address: a resolver that caches the CNAME follows it for both (a CNAME stands alone); give the origin both address families, or leave %s out of the records at %q",
				name, typeName(without), owner, typeName(without), named, typeName(with), named, owner)
		}
	}
	return ""
}

// isNameOrigin reports whether an Origin is a DNS name origin.
func isNameOrigin(o *v1.Origin) bool {
	as := o.GetSpec().GetAddresses()
	return len(as) == 1 && IsOriginName(as[0])
}

// sameRanking reports whether two GslbRecords rank their candidates alike
// for every client: the same candidates, policy, residency and behaviour
// when all are down.
func sameRanking(a, b *v1.GslbRecordSpec) bool {
	strip := func(s *v1.GslbRecordSpec) *v1.GslbRecordSpec {
		c := proto.Clone(s).(*v1.GslbRecordSpec)
		c.Zone, c.Name, c.Type, c.Answers, c.Ttl, c.Https = "", "", 0, 0, 0, nil
		return c
	}
	return proto.Equal(strip(a), strip(b))
}

// typeName is a record type as written in DNS: "A", "AAAA", "HTTPS".
func typeName(t v1.RecordType) string { return strings.TrimPrefix(t.String(), "RECORD_TYPE_") }

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
