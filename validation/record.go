package validation

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// Limits of a GslbRecord's answers.
const (
	maxAnswers   = 8
	maxRecordTTL = 86400
)

// checkRecord applies the per-object rules of a GslbRecord. Rules that need
// the zone, the origins or the PoPs are in crossRecord.
func checkRecord(r report, rec *v1.GslbRecord) {
	spec := rec.GetSpec()
	if spec == nil {
		r.add("spec", "", "required")
		return
	}
	if spec.GetZone() == "" {
		r.add("spec.zone", "", "required: the name of a GslbZone")
	}
	if n := spec.GetName(); n == "" {
		r.add("spec.name", "", "required: use \"@\" for the zone apex")
	} else if p := domainProblem(n); n != "@" && p != "" {
		r.add("spec.name", n, p)
	}
	switch t := spec.GetType(); t {
	case v1.RecordType_RECORD_TYPE_A, v1.RecordType_RECORD_TYPE_AAAA, v1.RecordType_RECORD_TYPE_HTTPS:
	case v1.RecordType_RECORD_TYPE_UNSPECIFIED:
		r.add("spec.type", "", "required: RECORD_TYPE_A, RECORD_TYPE_AAAA or RECORD_TYPE_HTTPS")
	case v1.RecordType_RECORD_TYPE_CNAME, v1.RecordType_RECORD_TYPE_TXT, v1.RecordType_RECORD_TYPE_MX,
		v1.RecordType_RECORD_TYPE_SRV, v1.RecordType_RECORD_TYPE_CAA, v1.RecordType_RECORD_TYPE_NS, v1.RecordType_RECORD_TYPE_SVCB,
		v1.RecordType_RECORD_TYPE_DS:
		r.add("spec.type", t.String(), "GSLB answers A, AAAA or HTTPS only; put other types in the zone's static records")
	default:
		r.add("spec.type", t.String(), "unknown record type")
	}
	checkServiceBinding(r, spec)
	checkCandidates(r, spec)
	switch p := spec.GetPolicy(); p {
	case v1.Policy_POLICY_NEAREST, v1.Policy_POLICY_LATENCY, v1.Policy_POLICY_WEIGHTED, v1.Policy_POLICY_FAILOVER:
	case v1.Policy_POLICY_UNSPECIFIED:
		r.add("spec.policy", "", "required: one of POLICY_NEAREST, POLICY_LATENCY, POLICY_WEIGHTED, POLICY_FAILOVER")
	default:
		r.add("spec.policy", p.String(), "unknown policy")
	}
	if n := spec.GetAnswers(); n > maxAnswers {
		r.add("spec.answers", fmt.Sprint(n), "outside 1..8 (0 means 1)")
	}
	if ttl := spec.GetTtl(); ttl > maxRecordTTL {
		r.add("spec.ttl", fmt.Sprint(ttl), "outside 1..86400 (0 means the zone's defaultTtl)")
	}
	for i, rule := range spec.GetResidency() {
		checkResidency(r, idx("spec.residency", i), rule)
	}
	checkResidencyOrder(r, spec.GetResidency())
	switch b := spec.GetWhenAllDown(); b {
	case v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_UNSPECIFIED, v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_FAIL_OPEN,
		v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_NODATA, v1.AllDownBehavior_ALL_DOWN_BEHAVIOR_SERVFAIL:
	default:
		r.add("spec.whenAllDown", b.String(), "unknown behaviour")
	}
}

// checkCandidates requires exactly one source of candidates: origins or
// pops.
func checkCandidates(r report, spec *v1.GslbRecordSpec) {
	hasOrigins, hasPops := len(spec.GetOrigins()) > 0, spec.GetPops() != nil
	switch {
	case hasOrigins && hasPops:
		r.add("spec.pops", "", "set origins or pops, not both")
	case !hasOrigins && !hasPops:
		r.add("spec.origins", "", "empty origin set: list origins or select pops")
	case hasPops:
		checkSelector(r, "spec.pops", spec.GetPops())
	}
	checkNameList(r, "spec.origins", spec.GetOrigins())
}

// checkResidency applies the per-object rules of one residency rule.
func checkResidency(r report, path string, rule *v1.ResidencyRule) {
	if len(rule.GetContinents()) == 0 && len(rule.GetCountries()) == 0 {
		r.add(path, "", "matches no client: list continents or countries")
	}
	for i, c := range rule.GetContinents() {
		if p := continentProblem(c); p != "" {
			r.add(idx(path+".continents", i), c, p)
		}
	}
	for i, c := range rule.GetCountries() {
		if p := countryProblem(c); p != "" {
			r.add(idx(path+".countries", i), c, p)
		}
	}
	if len(rule.GetAllowed()) == 0 {
		r.add(path+".allowed", "", "required: the candidates these clients may be answered with")
	}
	checkNameList(r, path+".allowed", rule.GetAllowed())
}

// checkServiceBinding checks the https field: only on HTTPS records, and
// parameters that parse, without the address hints the answers carry.
func checkServiceBinding(r report, spec *v1.GslbRecordSpec) {
	sb := spec.GetHttps()
	if sb == nil {
		return
	}
	if spec.GetType() != v1.RecordType_RECORD_TYPE_HTTPS {
		r.add("spec.https", "", "only for a record of type RECORD_TYPE_HTTPS")
		return
	}
	if p := sb.GetPriority(); p > 65535 {
		r.add("spec.https.priority", fmt.Sprint(p), "outside 1..65535 (0 means 1)")
	}
	params := sb.GetParams()
	for _, f := range strings.Fields(params) {
		if k, _, _ := strings.Cut(f, "="); k == "ipv4hint" || k == "ipv6hint" {
			r.add("spec.https.params", params, k+" comes from the chosen origins or PoPs: leave it out")
			return
		}
	}
	if p := commentProblem(params); p != "" {
		r.add("spec.https.params", params, p)
	} else if rr, err := ServiceBindingRR("check.invalid.", 0, 1, ".", params); err != nil {
		r.add("spec.https.params", params, err.Error())
	} else if p := svcbProblem(rr.Value, true); p != "" {
		r.add("spec.https.params", params, p)
	}
}

// ServiceBindingRR is the HTTPS record of a GSLB answer before its address
// hints: ServiceMode with the given priority, target and parameters.
func ServiceBindingRR(owner string, ttl, priority uint32, target, params string) (*dns.HTTPS, error) {
	if priority == 0 {
		priority = 1
	}
	rr, err := RecordData(v1.RecordType_RECORD_TYPE_HTTPS, owner, ttl, fmt.Sprintf("%d %s %s", priority, target, params), ".")
	if err != nil {
		return nil, err
	}
	return rr.(*dns.HTTPS), nil
}

// checkResidencyOrder refuses a residency rule's country or continent that
// an earlier rule always matches first: DNS servers apply the first rule
// that matches a client, so the later one never applies there. A country
// that may be placed in two continents is matched first only by a rule
// listing it, or both continents.
func checkResidencyOrder(r report, rules []*v1.ResidencyRule) {
	countryRule, continentRule := map[string]int{}, map[string]int{}
	const first = "never applies: spec.residency[%d] matches these clients first (the first rule that matches a client applies)"
	for i, rule := range rules {
		path := idx("spec.residency", i)
		for j, c := range rule.GetContinents() {
			if k, ok := continentRule[c]; ok && k < i {
				r.addf(idx(path+".continents", j), c, first+"; merge the rules, or drop it", k)
			}
		}
		for j, c := range rule.GetCountries() {
			if k, ok := countryRule[c]; ok && k < i {
				r.addf(idx(path+".countries", j), c, first+"; merge the rules, or drop it", k)
				continue
			}
			conts, ok := countryContinents(c)
			if !ok {
				continue
			}
			k := -1
			for _, cont := range strings.Fields(conts) {
				at, ok := continentRule[cont]
				if !ok || at >= i {
					k = -1
					break
				}
				k = max(k, at)
			}
			if k >= 0 {
				r.addf(idx(path+".countries", j), c, first+", as %s is in %s; put the rule for %s first", k, c, strings.Join(strings.Fields(conts), " or "), c)
			}
		}
		for _, c := range rule.GetContinents() {
			if _, ok := continentRule[c]; !ok {
				continentRule[c] = i
			}
		}
		for _, c := range rule.GetCountries() {
			if _, ok := countryRule[c]; !ok {
				countryRule[c] = i
			}
		}
	}
}
