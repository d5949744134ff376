package agent

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/anyctl/anyctl/agent/speaker"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// view is everything that decides what the PoP announces right now.
type view struct {
	cfg *v1.PopConfig
	// healthy says, per service, whether its check is up (damped).
	healthy map[string]bool
	// controllerLost is true while no controller stream is established.
	controllerLost bool
	// shuttingDown is true after SIGTERM: everything is tagged
	// GRACEFUL_SHUTDOWN before the sessions close.
	shuttingDown bool
	policy       *Policy
}

// prefixState is one prefix's decision, for status and metrics.
type prefixState struct {
	status  *v1.PrefixStatus
	refused bool
}

// desired computes the full set of announcements and why each prefix is or
// is not announced. It is pure: the agent hands the result to the speaker,
// which diffs it against what is announced.
func desired(v view) ([]speaker.Announcement, []prefixState) {
	var anns []speaker.Announcement
	var states []prefixState
	nh4, _ := netip.ParseAddr(v.cfg.GetNextHopIpv4())
	nh6, _ := netip.ParseAddr(v.cfg.GetNextHopIpv6())
	for _, svc := range v.cfg.GetServices() {
		mode := svc.GetMode()
		if v.shuttingDown && mode == v1.AnnounceMode_ANNOUNCE_MODE_NORMAL {
			mode = v1.AnnounceMode_ANNOUNCE_MODE_DRAINING
		}
		base, attrErr := attributes(svc, mode)
		up, known := v.healthy[svc.GetName()]
		for _, ps := range svc.GetPrefixes() {
			st := &v1.PrefixStatus{Prefix: ps, Service: svc.GetName(), Mode: mode}
			setAttrStatus(st, svc, mode)
			refused := false
			pfx, err := netip.ParsePrefix(ps)
			switch {
			case err != nil:
				st.Reason, refused = fmt.Sprintf("refused: %q is not a prefix", ps), true
			case attrErr != nil:
				st.Reason, refused = "refused: "+attrErr.Error(), true
			case v.policy.Check(pfx) != nil:
				st.Reason, refused = "refused: "+v.policy.Check(pfx).Error(), true
			case mode == v1.AnnounceMode_ANNOUNCE_MODE_WITHDRAWN:
				st.Reason = "withdrawn by the controller (drain or maintenance)"
			case v.controllerLost && svc.GetOnControllerLoss() == v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_WITHDRAW:
				st.Reason = "controller unreachable; this service withdraws on controller loss"
			case svc.GetHealthCheck() != nil && !known && !svc.GetBudgetHold():
				st.Reason = "health check not yet run"
			case svc.GetHealthCheck() != nil && !up && !svc.GetBudgetHold():
				st.Reason = "health check down"
			default:
				a := base
				a.Prefix = pfx
				if pfx.Addr().Is4() {
					a.NextHop = nh4
				} else {
					a.NextHop = nh6
				}
				anns = append(anns, a)
				st.Announced = true
				st.Reason = "healthy"
				if svc.GetHealthCheck() != nil && !up {
					st.Reason = "held by the withdrawal budget despite a failing health check"
				}
				if mode == v1.AnnounceMode_ANNOUNCE_MODE_DRAINING {
					st.Reason = "draining: GRACEFUL_SHUTDOWN and extra prepends"
				}
			}
			states = append(states, prefixState{status: st, refused: refused})
		}
	}
	return capAnnouncements(anns, states, v.policy.MaxPerPeer)
}

// capAnnouncements keeps at most max announcements, the lowest prefixes
// first so the choice is stable, and marks the rest refused.
func capAnnouncements(anns []speaker.Announcement, states []prefixState, max int) ([]speaker.Announcement, []prefixState) {
	if max <= 0 || len(anns) <= max {
		return anns, states
	}
	sort.Slice(anns, func(i, j int) bool { return comparePrefix(anns[i].Prefix, anns[j].Prefix) < 0 })
	dropped := map[netip.Prefix]bool{}
	for _, a := range anns[max:] {
		dropped[a.Prefix] = true
	}
	for i := range states {
		st := states[i].status
		if p, err := netip.ParsePrefix(st.Prefix); err == nil && st.Announced && dropped[p] {
			st.Announced = false
			st.Reason = fmt.Sprintf("refused: over the cap of %d prefixes per peer", max)
			states[i].refused = true
		}
	}
	return anns[:max], states
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// attributes builds the path attributes of a service's announcements.
func attributes(svc *v1.ServiceAssignment, mode v1.AnnounceMode) (speaker.Announcement, error) {
	var a speaker.Announcement
	ann := svc.GetAnnounce()
	for _, c := range ann.GetCommunities() {
		v, err := parseCommunity(c)
		if err != nil {
			return a, fmt.Errorf("service %q: community %q: %w", svc.GetName(), c, err)
		}
		a.Communities = append(a.Communities, v)
	}
	for _, c := range ann.GetLargeCommunities() {
		v, err := parseLargeCommunity(c)
		if err != nil {
			return a, fmt.Errorf("service %q: large community %q: %w", svc.GetName(), c, err)
		}
		a.LargeCommunities = append(a.LargeCommunities, v)
	}
	if ann.Med != nil {
		med := ann.GetMed()
		a.MED = &med
	}
	a.Prepend = int(ann.GetAsPathPrepend())
	if mode == v1.AnnounceMode_ANNOUNCE_MODE_DRAINING {
		a.Communities = append(a.Communities, speaker.GracefulShutdown)
		a.Prepend += int(svc.GetDrainPrepend())
	}
	return a, nil
}

func setAttrStatus(st *v1.PrefixStatus, svc *v1.ServiceAssignment, mode v1.AnnounceMode) {
	ann := svc.GetAnnounce()
	st.Communities = append([]string(nil), ann.GetCommunities()...)
	st.LargeCommunities = append([]string(nil), ann.GetLargeCommunities()...)
	st.Med = ann.Med
	st.AsPathPrepend = ann.GetAsPathPrepend()
	if mode == v1.AnnounceMode_ANNOUNCE_MODE_DRAINING {
		st.Communities = append(st.Communities, "65535:0")
		st.AsPathPrepend += svc.GetDrainPrepend()
	}
}

// parseCommunity reads "ASN:VALUE" (RFC 1997).
func parseCommunity(s string) (uint32, error) {
	hi, lo, ok := strings.Cut(s, ":")
	if !ok {
		return 0, fmt.Errorf("want ASN:VALUE")
	}
	h, err1 := strconv.ParseUint(hi, 10, 16)
	l, err2 := strconv.ParseUint(lo, 10, 16)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("want two numbers 0-65535")
	}
	return uint32(h)<<16 | uint32(l), nil
}

// parseLargeCommunity reads "GLOBAL:LOCAL1:LOCAL2" (RFC 8092).
func parseLargeCommunity(s string) (speaker.LargeCommunity, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return speaker.LargeCommunity{}, fmt.Errorf("want GLOBAL:LOCAL1:LOCAL2")
	}
	var v [3]uint32
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return speaker.LargeCommunity{}, fmt.Errorf("want three numbers 0-4294967295")
		}
		v[i] = uint32(n)
	}
	return speaker.LargeCommunity{Global: v[0], Local1: v[1], Local2: v[2]}, nil
}
