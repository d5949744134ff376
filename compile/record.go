package compile

import (
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/resource"
)

// compileRecord copies a record with its name made absolute within its zone
// and every default filled in: TTL from the compiled zone, answers 1, policy
// nearest, fail-open when every candidate is down. A PoP selector is expanded
// to the sorted names it picks, so DNS servers need not know regions.
// zones holds the compiled zones by object name.
func compileRecord(s *resource.State, r *v1.GslbRecord, zones map[string]*v1.GslbZone) *v1.GslbRecord {
	out := proto.Clone(r).(*v1.GslbRecord)
	if out.Spec == nil {
		out.Spec = &v1.GslbRecordSpec{}
	}
	spec := out.Spec
	zone := zones[spec.Zone].GetSpec()
	spec.Name = resolveName(spec.Name, zone.GetZone())
	if spec.Ttl == 0 {
		spec.Ttl = zone.GetDefaultTtl()
		if spec.Ttl == 0 {
			spec.Ttl = DefaultZoneTTL
		}
	}
	if spec.Answers == 0 {
		spec.Answers = DefaultAnswers
	}
	if spec.Policy == v1.Policy_POLICY_UNSPECIFIED {
		spec.Policy = v1.Policy_POLICY_NEAREST
	}
	if spec.WhenAllDown == v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_UNSPECIFIED {
		spec.WhenAllDown = v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_FAIL_OPEN
	}
	if spec.Pops != nil {
		spec.Pops = &v1.PopSelector{Names: SelectPops(s, spec.Pops)}
	}
	return out
}
