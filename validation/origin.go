package validation

import (
	"fmt"
	"net/netip"
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// checkOrigin applies the per-object rules of an Origin.
func checkOrigin(r report, o *v1.Origin) {
	spec := o.GetSpec()
	if spec == nil {
		r.add("spec", "", "required")
		return
	}
	checkLocation(r, "spec.location", spec.GetLocation())
	if len(spec.GetAddresses()) == 0 {
		r.add("spec.addresses", "", "at least one address required")
	}
	seen := map[netip.Addr]int{}
	for i, a := range spec.GetAddresses() {
		path := idx("spec.addresses", i)
		if IsOriginName(a) {
			if p := domainProblem(a); p != "" {
				r.add(path, a, "neither an IP address nor a DNS name: "+p)
			} else if n := len(spec.GetAddresses()); n > 1 {
				r.add(path, a, "a DNS name must be the origin's only address: it is answered with a CNAME, and a CNAME stands alone")
			}
			continue
		}
		addr, ok := checkAddr(r, path, a)
		if !ok {
			continue
		}
		if j, dup := seen[addr]; dup {
			r.addf(path, a, "duplicate of spec.addresses[%d]", j)
			continue
		}
		seen[addr] = i
	}
	if w := spec.GetWeight(); w < 0 {
		r.add("spec.weight", fmt.Sprint(w), "weight negative: use 0 to take no weighted traffic")
	}
	if spec.TrafficDial != nil {
		if d := spec.GetTrafficDial(); d < 0 || d > 100 {
			r.add("spec.trafficDial", fmt.Sprint(d), "outside 0..100 (percent of its traffic the origin keeps)")
		}
	}
	if hc := spec.GetHealthCheck(); hc != nil {
		checkHealthCheck(r, "spec.healthCheck", hc, false)
	}
}

// IsOriginName reports whether an Origin address is written as a DNS name
// (a cloud load balancer) rather than an IP address: it holds a letter,
// a dot between labels, and no colon.
func IsOriginName(a string) bool {
	if strings.Contains(a, ":") || !strings.Contains(strings.TrimSuffix(a, "."), ".") {
		return false
	}
	for _, c := range a {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}
