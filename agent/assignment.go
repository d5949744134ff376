package agent

import (
	"net/netip"

	"github.com/anyctl/anyctl/agent/health"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// assignment is one service assignment as the agent runs it.
type assignment struct {
	name     string
	prefixes []servicePrefix
	mode     v1.AnnounceMode
	onLoss   v1.ControllerLossBehavior
	// budgetHold is set while the controller's withdrawal budget holds the
	// service's announcements in place despite a failing check.
	budgetHold bool
	attrs      attributes
	// check is nil for a service without a health check.
	check *serviceCheck
}

// servicePrefix is one prefix of a service.
type servicePrefix struct {
	// text is the prefix as the controller wrote it, for status and logs.
	text string
	// pfx is the parsed prefix, invalid when text is not a prefix.
	pfx netip.Prefix
}

// serviceCheck is a service's health check and damping, with why either
// is unusable (the service then stays withdrawn).
type serviceCheck struct {
	spec    health.Spec
	specErr error
	damp    health.DampConfig
	dampErr error
	// wire is the assignment the check was converted from and host the
	// host a target without one probes: what sameCheck compares, to tell
	// an edited check from an unchanged one.
	wire *v1.ServiceAssignment
	host string
}

// acceptAssignment converts a service assignment of the config.
func acceptAssignment(svc *v1.ServiceAssignment) assignment {
	s := assignment{
		name:       svc.GetName(),
		mode:       svc.GetMode(),
		onLoss:     svc.GetOnControllerLoss(),
		budgetHold: svc.GetBudgetHold(),
		attrs:      acceptAttributes(svc),
	}
	for _, text := range svc.GetPrefixes() {
		p := servicePrefix{text: text}
		if pfx, err := netip.ParsePrefix(text); err == nil {
			p.pfx = pfx
		}
		s.prefixes = append(s.prefixes, p)
	}
	if svc.GetHealthCheck() != nil {
		c := &serviceCheck{wire: svc, host: s.defaultCheckHost()}
		c.spec, c.specErr = health.FromProto(svc.GetHealthCheck(), c.host)
		c.damp, c.dampErr = health.DampFromProto(svc)
		s.check = c
	}
	return s
}

// defaultCheckHost is the host a check with no host in its target probes:
// the service address, the first host address of the service's first
// prefix (the address itself for a /32 or /128); "" when the first prefix
// is not one.
func (s *assignment) defaultCheckHost() string {
	if len(s.prefixes) == 0 || !s.prefixes[0].pfx.IsValid() {
		return ""
	}
	p := s.prefixes[0].pfx
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.Masked().Addr().Next().String()
}
