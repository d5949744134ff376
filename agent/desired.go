package agent

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"

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
				// Each announcement owns its attributes.
				a.Communities = slices.Clone(base.Communities)
				a.LargeCommunities = slices.Clone(base.LargeCommunities)
				if base.MED != nil {
					med := *base.MED
					a.MED = &med
				}
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
		v, err := speaker.ParseCommunity(c)
		if err != nil {
			return a, fmt.Errorf("service %q: %w", svc.GetName(), err)
		}
		a.Communities = append(a.Communities, v)
	}
	for _, c := range ann.GetLargeCommunities() {
		v, err := speaker.ParseLargeCommunity(c)
		if err != nil {
			return a, fmt.Errorf("service %q: %w", svc.GetName(), err)
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
