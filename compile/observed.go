package compile

import (
	"slices"
	"strconv"
	"time"
)

// Observed is the fleet's observed state that shapes compiled output. The
// zero value means nothing observed: no PoP draining, every origin healthy,
// no RTT measured.
type Observed struct {
	// Drain says, per PoP name, which drain step it is in. Missing means
	// not draining.
	Drain map[string]DrainStep
	// OriginHealth is the quorum verdict per origin name; a missing origin
	// counts as healthy.
	OriginHealth map[string]OriginHealth
	// RTT[pop][origin] is the measured round-trip time from a PoP to an
	// origin.
	RTT map[string]map[string]time.Duration
	// Held lists, per service name, the PoPs whose announcements the
	// withdrawal budget keeps in place despite failing health checks.
	Held map[string][]string
}

// held reports whether the budget holds service's announcements at pop.
func (o Observed) held(service, pop string) bool {
	return slices.Contains(o.Held[service], pop)
}

// OriginHealth is the fleet's quorum verdict on one origin.
type OriginHealth struct {
	Healthy bool
	// Reason says why, for status and explain output.
	Reason string
	// Verdict is the rule that decided an unhealthy verdict, without the
	// tally Reason gives: what DNS servers are sent, so that the tally
	// moving while the verdict stands sends them nothing.
	Verdict string
}

// DrainStep is where a PoP stands in a graceful drain. A drain walks the
// steps in order and an undrain walks them back.
type DrainStep int

const (
	// DrainNone is a PoP in service.
	DrainNone DrainStep = iota
	// DrainGslb takes the PoP out of GSLB answers; it still announces
	// normally.
	DrainGslb
	// DrainGracefulShutdown announces with the GRACEFUL_SHUTDOWN community
	// (RFC 8326) and DrainPrepend extra prepends, so upstreams move traffic
	// away before the withdrawal.
	DrainGracefulShutdown
	// DrainWithdrawn announces nothing.
	DrainWithdrawn
)

// String names the step as status output shows it.
func (d DrainStep) String() string {
	switch d {
	case DrainNone:
		return "none"
	case DrainGslb:
		return "gslb"
	case DrainGracefulShutdown:
		return "graceful-shutdown"
	case DrainWithdrawn:
		return "withdrawn"
	}
	return "DrainStep(" + strconv.Itoa(int(d)) + ")"
}
