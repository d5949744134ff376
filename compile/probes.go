package compile

import (
	"slices"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"

	"github.com/anyctl/anyctl/resource"
)

// originProbes lists every origin some GslbRecord chooses among, in name
// order, for every PoP to probe as a vantage point. An origin without a
// health check is probed over tcp on port 443 of each address: the check's
// target ":443" has an empty host, which for a probe means each of its
// addresses. Origins named by records but absent from the state are skipped.
func originProbes(s *resource.State) []*v1.OriginProbe {
	used := map[string]struct{}{}
	for _, r := range s.Records {
		for _, o := range r.GetSpec().GetOrigins() {
			used[o] = struct{}{}
		}
	}
	var out []*v1.OriginProbe
	for _, name := range resource.SortedNames(used) {
		o, ok := s.Origins[name]
		if !ok {
			continue
		}
		out = append(out, &v1.OriginProbe{
			Origin:      name,
			Addresses:   slices.Clone(o.GetSpec().GetAddresses()),
			HealthCheck: checkWithDefaults(o.GetSpec().GetHealthCheck()),
		})
	}
	return out
}
