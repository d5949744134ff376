package agent

import (
	"fmt"
	"net/netip"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// accepted is a PopConfig as the agent runs it: converted once, when the
// agent accepts it, into the agent's own types (netip addresses and
// prefixes, speaker attributes, health specs, durations), so that a
// reconcile reads values and parses nothing. A config is never refused
// whole: a part that does not convert keeps the error that says why, and
// only that part is refused (a prefix, a service's prefixes, a family) or
// left unstarted (the speaker, a check, an origin probe).
type accepted struct {
	// wire is the config as received: persisted, compared with the next
	// one, and its revision reported.
	wire *v1.PopConfig
	asn  uint32
	// routerID is the speaker's router ID; routerIDErr says why the config's
	// is unusable.
	routerID    netip.Addr
	routerIDErr error
	hops        nextHops
	services    []assignment
	peers       []peer
	origins     []origin
}

// accept converts a PopConfig. It is pure.
func accept(cfg *v1.PopConfig) *accepted {
	c := &accepted{wire: cfg, asn: cfg.GetLocalAsn(), hops: parseNextHops(cfg)}
	var err error
	if c.routerID, err = netip.ParseAddr(cfg.GetRouterId()); err != nil {
		c.routerIDErr = fmt.Errorf("config routerId %q: %w", cfg.GetRouterId(), err)
	}
	for _, svc := range cfg.GetServices() {
		c.services = append(c.services, acceptAssignment(svc))
	}
	prefixes := c.servicePrefixes()
	for i, p := range cfg.GetPeers() {
		c.peers = append(c.peers, acceptPeer(i, p, c.hops, prefixes))
	}
	for _, p := range cfg.GetOriginProbes() {
		c.origins = append(c.origins, acceptOrigin(p))
	}
	return c
}

// revision is the config's revision, 0 for none.
func (c *accepted) revision() int64 {
	if c == nil {
		return 0
	}
	return c.wire.GetRevision()
}

// servicePrefixes maps each service to its prefixes, the ones that are
// prefixes without host bits (desired refuses the others).
func (c *accepted) servicePrefixes() map[string][]netip.Prefix {
	out := map[string][]netip.Prefix{}
	for _, svc := range c.services {
		for _, p := range svc.prefixes {
			if p.pfx.IsValid() && p.pfx.Masked() == p.pfx {
				out[svc.name] = append(out[svc.name], p.pfx)
			}
		}
	}
	return out
}
