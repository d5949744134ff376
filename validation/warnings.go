package validation

import (
	"fmt"
	"net/netip"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// ECS source prefix lengths many resolvers shorten client subnets to
// (unbound's default, and RFC 7871's recommendation).
const (
	resolverECS4 = 24
	resolverECS6 = 56
)

// Warnings returns what an apply of incoming onto the existing state (nil:
// an empty store) accepts but an operator should know, one sentence each
// naming the object, field and value. Unlike CheckApply's problems they
// do not stop the apply.
func Warnings(incoming []*v1.Object, existing *resource.State) []string {
	var out []string
	for _, o := range incoming {
		p := o.GetPop()
		if p == nil {
			continue
		}
		ref := resource.RefOf(o)
		for i, s := range p.GetSpec().GetCacheNetworks() {
			pfx, err := netip.ParsePrefix(s)
			if err != nil {
				continue // an error of CheckApply's
			}
			limit := resolverECS4
			if pfx.Addr().Is6() {
				limit = resolverECS6
			}
			if pfx.Bits() > limit {
				out = append(out, fmt.Sprintf("%s: %s %s: longer than /%d: behind a resolver that shortens ECS to /%d (unbound's default) the DNS server sees only the /%d, and cannot tell this network from the rest of it",
					ref, idx("spec.cacheNetworks", i), resource.Quote(s), limit, limit, limit))
			}
		}
	}
	out = append(out, addressWarnings(incoming)...)
	out = append(out, cnameTargetWarnings(incoming, existing)...)
	return append(out, aliasWarnings(incoming, existing)...)
}
