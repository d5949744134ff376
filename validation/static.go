package validation

import (
	"fmt"
	"net/netip"
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// maxTXTValue is the longest TXT value: it is served as one record of as
// many 255-byte character-strings as it needs, and 4096 bytes hold a
// 4096-bit DKIM key with room to spare while keeping the record small
// enough for a TCP answer beside others.
const maxTXTValue = 4096

// rrKey identifies an RRset: canonical owner name and type.
type rrKey struct {
	owner string
	typ   v1.RecordType
}

// checkStaticRecords applies the static record rules in the zone with the
// given apex. A record's TTL of 0 means the zone's defaultTtl.
func checkStaticRecords(r report, recs []*v1.StaticRecord, apex string) {
	sets := map[rrKey]int{}
	cnames := map[string]int{}
	others := map[string]int{}
	for i, rec := range recs {
		path := idx("spec.records", i)
		if ttl := rec.GetTtl(); ttl > maxZoneTTL {
			r.add(path+".ttl", fmt.Sprint(ttl), "outside 1..604800 (0 means spec.defaultTtl)")
		}
		typeOK := checkStaticValues(r, path, rec, apex)
		if rec.GetName() == "" {
			r.add(path+".name", "", "required: use \"@\" for the zone apex")
			continue
		}
		owner, problem := ownerName(rec.GetName(), apex)
		if problem != "" {
			r.add(path+".name", rec.GetName(), problem)
			continue
		}
		if !typeOK {
			continue
		}
		checkStaticSize(r, path, owner, rec, apex)
		key := rrKey{owner, rec.GetType()}
		if j, dup := sets[key]; dup {
			r.addf(path+".name", rec.GetName(), "same name and type as spec.records[%d]: list every value in one record", j)
			continue
		}
		sets[key] = i
		if rec.GetType() != v1.RecordType_RECORD_TYPE_CNAME {
			if j, clash := cnames[owner]; clash {
				r.addf(path+".name", rec.GetName(), "beside the CNAME at spec.records[%d]: a CNAME must stand alone", j)
			}
			others[owner] = i
			continue
		}
		if owner == apex {
			r.add(path+".type", rec.GetType().String(), "a CNAME cannot be at the zone apex")
			continue
		}
		if j, clash := others[owner]; clash {
			r.addf(path+".name", rec.GetName(), "CNAME beside spec.records[%d]: a CNAME must stand alone", j)
		}
		cnames[owner] = i
	}
	checkDelegations(r, recs, apex)
}

// checkStaticValues checks a static record's type and values, and reports
// whether the type is one a static record may have.
func checkStaticValues(r report, path string, rec *v1.StaticRecord, apex string) bool {
	typ := rec.GetType()
	switch typ {
	case v1.RecordType_RECORD_TYPE_A, v1.RecordType_RECORD_TYPE_AAAA, v1.RecordType_RECORD_TYPE_CNAME, v1.RecordType_RECORD_TYPE_TXT:
	case v1.RecordType_RECORD_TYPE_UNSPECIFIED:
		r.add(path+".type", "", "required: one of RECORD_TYPE_A, RECORD_TYPE_AAAA, RECORD_TYPE_CNAME, RECORD_TYPE_TXT, RECORD_TYPE_MX, RECORD_TYPE_SRV, RECORD_TYPE_CAA, RECORD_TYPE_NS, RECORD_TYPE_SVCB, RECORD_TYPE_HTTPS, RECORD_TYPE_DS")
		return false
	default:
		if _, parsed := rdataForms[typ]; !parsed {
			r.add(path+".type", typ.String(), "unknown record type")
			return false
		}
	}
	values := rec.GetValues()
	if len(values) == 0 {
		r.add(path+".values", "", "at least one value required")
	}
	if typ == v1.RecordType_RECORD_TYPE_CNAME && len(values) > 1 {
		r.add(path+".values", "", "a CNAME has exactly one value")
	}
	for j, v := range values {
		vpath := idx(path+".values", j)
		switch typ {
		case v1.RecordType_RECORD_TYPE_A:
			if a, err := netip.ParseAddr(v); err != nil || !a.Is4() {
				r.add(vpath, v, "not an IPv4 address")
			}
		case v1.RecordType_RECORD_TYPE_AAAA:
			if a, err := netip.ParseAddr(v); err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
				r.add(vpath, v, "not an IPv6 address")
			}
		case v1.RecordType_RECORD_TYPE_CNAME:
			if v != "" && isAddress(v) {
				r.add(vpath, v, "an address where a name is wanted: a CNAME names another name; for an address, use an A or AAAA record")
				continue
			}
			checkDomain(r, vpath, v)
			if owner, problem := ownerName(rec.GetName(), apex); v != "" && domainProblem(v) == "" && rec.GetName() != "" && problem == "" && fqdn(v) == owner {
				r.add(vpath, v, "a CNAME to its own name, which resolvers follow in a loop")
			}
			if v != "" && domainProblem(v) == "" && !strings.Contains(v, ".") {
				r.addf(vpath, v, "a CNAME target is absolute, and %q would be served as the top-level name %q: write %q for the name in this zone, or %q if that is meant",
					v, fqdn(v), fqdn(v)+apex, fqdn(v))
			}
		case v1.RecordType_RECORD_TYPE_TXT:
			if len(v) > maxTXTValue {
				r.add(vpath, v, "longer than 4096 bytes")
			}
		default:
			if emptyData(v) {
				r.add(vpath, v, emptyMsg(typ))
			} else if p := commentProblem(v); p != "" {
				r.add(vpath, v, p)
			} else if p := hintProblem(typ, v); p != "" {
				r.add(vpath, v, p)
			} else if rr, err := RecordData(typ, apex, 0, v, apex); err != nil {
				r.add(vpath, v, err.Error())
			} else if p := dataProblem(typ, v, rr); p != "" {
				r.add(vpath, v, p)
			}
		}
	}
	return true
}
