package validation

import (
	"fmt"
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// relativeLooking is the part of a CNAME target warning that says why
// the name may not mean what was written.
const relativeLooking = "though a name without a trailing dot is relative to the zone in NS and SOA data and in zone files"

// cnameTargetWarnings warns of CNAME targets of more than one label
// written without a trailing dot: a static CNAME's value and a name
// origin's address. DNS servers answer them as absolute names, while a
// name so written in NS or SOA data, or in a zone file, is relative to
// the zone; "www.example" may have been meant as a name in the zone. The
// meaning served stays as it is, since changing it would change the
// answers of states already stored: the warning says what to write for
// either meaning. (A single label is refused: it would be a top-level
// name.)
func cnameTargetWarnings(incoming []*v1.Object, existing *resource.State) []string {
	var out []string
	var merged *resource.State
	for _, o := range incoming {
		ref := resource.RefOf(o)
		switch {
		case o.GetGslbZone() != nil:
			apex, ok := zoneApex(o.GetGslbZone().GetSpec())
			if !ok {
				continue
			}
			for i, rec := range o.GetGslbZone().GetSpec().GetRecords() {
				if rec.GetType() != v1.RecordType_RECORD_TYPE_CNAME {
					continue
				}
				for j, v := range rec.GetValues() {
					if !dotless(v) || inZone(fqdn(v), apex) {
						continue // a name that ends in the zone's own is meant absolute
					}
					out = append(out, fmt.Sprintf("%s: %s %s: a CNAME target is served as the absolute name %q, %s: write %q for that name, or %q for the name in this zone",
						ref, idx(idx("spec.records", i)+".values", j), resource.Quote(v), fqdn(v), relativeLooking, v+".", v+"."+apex))
				}
			}
		case o.GetOrigin() != nil:
			for i, a := range o.GetOrigin().GetSpec().GetAddresses() {
				if !IsOriginName(a) || !dotless(a) {
					continue
				}
				w := fmt.Sprintf("%s: %s %s: a DNS name origin is served as the CNAME target %q, an absolute name, %s: write %q for that name",
					ref, idx("spec.addresses", i), resource.Quote(a), fqdn(a), relativeLooking, a+".")
				if merged == nil {
					merged = mergedState(incoming, existing)
				}
				if rec, zone, apex := firstUser(merged, o.GetOrigin().GetMetadata().GetName()); rec != "" {
					w += fmt.Sprintf(", or %q for the name in GslbZone %q, which GslbRecord %q answers in", a+"."+apex, zone, rec)
				}
				out = append(out, w)
			}
		}
	}
	return out
}

// dotless reports whether a CNAME target is a valid name of more than one
// label without a trailing dot.
func dotless(v string) bool {
	return v != "" && !strings.HasSuffix(v, ".") && strings.Contains(v, ".") && domainProblem(v) == "" && !isAddress(v)
}

// firstUser returns the first GslbRecord, by name, that names origin,
// with its zone and the zone's apex; "" when none does.
func firstUser(st *resource.State, origin string) (rec, zone, apex string) {
	for _, name := range resource.SortedNames(st.Records) {
		spec := st.Records[name].GetSpec()
		for _, o := range spec.GetOrigins() {
			if o != origin {
				continue
			}
			if a, ok := zoneApex(st.Zones[spec.GetZone()].GetSpec()); ok {
				return name, spec.GetZone(), a
			}
		}
	}
	return "", "", ""
}

// mergedState is existing (nil: an empty store) with incoming put over it.
func mergedState(incoming []*v1.Object, existing *resource.State) *resource.State {
	merged := resource.NewState()
	if existing != nil {
		merged = existing.Clone()
	}
	for _, o := range incoming {
		merged.Put(o)
	}
	return merged
}
