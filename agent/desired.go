package agent

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/anyctl/anyctl/agent/speaker"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// view is everything that decides what the PoP announces right now.
type view struct {
	cfg *accepted
	// healthy says, per service, whether its check is up (damped).
	healthy map[string]bool
	// controllerLost is true while the agent counts its controller
	// unreachable: no stream yet, or none for controllerLossGrace since
	// the last one ended.
	controllerLost bool
	// shuttingDown is true after SIGTERM: everything is tagged
	// GRACEFUL_SHUTDOWN before the sessions close.
	shuttingDown bool
	policy       *Policy
}

// prefixState is one prefix's decision, for status and metrics.
type prefixState struct {
	status *v1.PrefixStatus
	// prefix is the status's prefix, invalid when it is not one.
	prefix  netip.Prefix
	refused bool
}

// desired computes the full set of announcements and why each prefix is or
// is not announced. It is pure: the agent hands the result to the speaker,
// which diffs it against what is announced. The speaker refuses a whole set
// for one bad announcement, so whatever it would refuse is refused here,
// per prefix, and the rest still goes out.
func desired(v view) ([]speaker.Announcement, []prefixState) {
	var anns []speaker.Announcement
	var states []prefixState
	owners := map[netip.Prefix]string{}
	for i := range v.cfg.services {
		svc := &v.cfg.services[i]
		mode := svc.mode
		if v.shuttingDown && mode == v1.AnnounceMode_ANNOUNCE_MODE_NORMAL {
			mode = v1.AnnounceMode_ANNOUNCE_MODE_DRAINING
		}
		up, known := v.healthy[svc.name]
		for _, p := range svc.prefixes {
			st := &v1.PrefixStatus{Prefix: p.text, Service: svc.name, Mode: mode}
			svc.attrs.setStatus(st, mode)
			why := refusal(p, svc, v.cfg.hops, v.policy, owners)
			switch {
			case why != "":
				st.Reason = "refused: " + why
			case mode == v1.AnnounceMode_ANNOUNCE_MODE_WITHDRAWN:
				st.Reason = "withdrawn by the controller (drain or maintenance)"
			case v.controllerLost && svc.onLoss == v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_WITHDRAW:
				st.Reason = "controller unreachable; this service withdraws on controller loss"
			case svc.check != nil && !known && !svc.budgetHold:
				st.Reason = "health check not yet run"
			case svc.check != nil && !up && !svc.budgetHold:
				st.Reason = "health check down"
			default:
				a := svc.attrs.announcement(p.pfx, mode)
				if err := a.Check(); err != nil {
					why = err.Error()
					st.Reason = "refused: " + why
					break
				}
				anns = append(anns, a)
				st.Announced = true
				st.Reason = "healthy"
				if svc.check != nil && !up {
					st.Reason = "held by the withdrawal budget despite a failing health check"
				}
				if mode == v1.AnnounceMode_ANNOUNCE_MODE_DRAINING {
					st.Reason = "draining: GRACEFUL_SHUTDOWN and extra prepends"
				}
			}
			states = append(states, prefixState{status: st, prefix: p.pfx, refused: why != ""})
		}
	}
	return capAnnouncements(anns, states, v.policy.MaxPerPeer)
}

// refusal says why this PoP may never announce prefix p of service svc as
// configured, or "" when it may. owners records the service each prefix
// went to first: the speaker takes each prefix once, so a later listing is
// refused, whatever the health of either, for a stable choice.
func refusal(p servicePrefix, svc *assignment, hops nextHops, policy *Policy, owners map[netip.Prefix]string) string {
	if !p.pfx.IsValid() {
		return fmt.Sprintf("%q is not a prefix", p.text)
	}
	if svc.attrs.err != nil {
		return svc.attrs.err.Error()
	}
	if err := policy.Check(p.pfx); err != nil {
		return err.Error()
	}
	if err := hops.check(p.pfx); err != nil {
		return err.Error()
	}
	if owner, dup := owners[p.pfx]; dup {
		return fmt.Sprintf("prefix %q already listed by service %q: list each prefix in one service, once", p.text, owner)
	}
	owners[p.pfx] = svc.name
	return ""
}

// capAnnouncements keeps at most max announcements, the lowest prefixes
// first (IPv4 first, then by address, then shorter first) so the choice is
// stable, and marks the rest refused.
func capAnnouncements(anns []speaker.Announcement, states []prefixState, max int) ([]speaker.Announcement, []prefixState) {
	if max <= 0 || len(anns) <= max {
		return anns, states
	}
	slices.SortFunc(anns, func(a, b speaker.Announcement) int { return a.Prefix.Compare(b.Prefix) })
	dropped := map[netip.Prefix]bool{}
	for _, a := range anns[max:] {
		dropped[a.Prefix] = true
	}
	for i := range states {
		st := states[i].status
		if st.Announced && dropped[states[i].prefix] {
			st.Announced = false
			st.Reason = fmt.Sprintf("refused: over the cap of %d prefixes per peer", max)
			states[i].refused = true
		}
	}
	return anns[:max], states
}
