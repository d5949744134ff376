package validation

import (
	"errors"
	"fmt"
	"net/netip"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// checkService applies the per-object rules of an AnycastService.
func checkService(r report, s *v1.AnycastService, opts Options) {
	spec := s.GetSpec()
	if spec == nil {
		r.add("spec", "", "required")
		return
	}
	checkServicePrefixes(r, spec, opts)
	if spec.GetPops() == nil {
		r.add("spec.pops", "", "required: select PoPs with all, names or regions")
	} else {
		checkSelector(r, "spec.pops", spec.GetPops())
	}
	if spec.GetHealthCheck() == nil {
		r.add("spec.healthCheck", "", "required: a service is announced only while its check passes")
	} else {
		checkHealthCheck(r, "spec.healthCheck", spec.GetHealthCheck(), true)
	}
	checkAnnounce(r, "spec.announce", spec.GetAnnounce())
	checkHoldDown(r, spec)
	switch b := spec.GetOnControllerLoss(); b {
	case v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_UNSPECIFIED,
		v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_KEEP_LAST_STATE,
		v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_WITHDRAW:
	default:
		r.add("spec.onControllerLoss", b.String(), "unknown behaviour")
	}
}

// checkServicePrefixes applies the prefix rules to each prefix, and refuses
// a prefix repeated or overlapping within the service.
func checkServicePrefixes(r report, spec *v1.AnycastServiceSpec, opts Options) {
	if len(spec.GetPrefixes()) == 0 {
		r.add("spec.prefixes", "", "at least one prefix required")
		return
	}
	var seen []netip.Prefix
	var seenAt []int
	for i, s := range spec.GetPrefixes() {
		path := idx("spec.prefixes", i)
		p, err := ParsePrefix(s)
		if err == nil {
			err = CheckAnnouncePrefix(p, spec.GetAllowLongPrefixes())
		}
		if errors.Is(err, ErrTooLong) {
			err = fmt.Errorf("%w; set spec.allowLongPrefixes to announce it", err)
		}
		if err == nil {
			err = CheckAllowedPrefix(p, opts.AllowedPrefixes)
		}
		if err != nil {
			r.addErr(path, s, err)
			continue
		}
		for k, q := range seen {
			if q == p {
				r.addf(path, s, "duplicate of spec.prefixes[%d]", seenAt[k])
				break
			}
			if q.Overlaps(p) {
				r.addf(path, s, "overlaps spec.prefixes[%d] %q", seenAt[k], q.String())
				break
			}
		}
		seen = append(seen, p)
		seenAt = append(seenAt, i)
	}
}

// checkHoldDown applies the flap damping rules.
func checkHoldDown(r report, spec *v1.AnycastServiceSpec) {
	hold, holdOK := checkDuration(r, "spec.holdDown", spec.GetHoldDown())
	if holdOK && hold < 0 {
		r.add("spec.holdDown", hold.String(), "negative")
	}
	holdMax, maxOK := checkDuration(r, "spec.holdDownMax", spec.GetHoldDownMax())
	if maxOK && holdOK && holdMax < hold {
		r.addf("spec.holdDownMax", holdMax.String(), "below spec.holdDown %q", hold.String())
	} else if maxOK && holdMax < 0 {
		r.add("spec.holdDownMax", holdMax.String(), "negative")
	}
	if w, ok := checkDuration(r, "spec.flapWindow", spec.GetFlapWindow()); ok && w < 0 {
		r.add("spec.flapWindow", w.String(), "negative")
	}
}

// crossService applies the rules that need other objects: the PoPs
// selected, the withdrawal budget against them, and prefixes overlapping
// another service's.
func crossService(r report, s *v1.AnycastService, st *resource.State, ix *index) {
	spec := s.GetSpec()
	if spec.GetPops() != nil {
		selected, ok := countSelected(r, "spec.pops", spec.GetPops(), st, ix)
		if want := spec.GetMinAnnouncingPops(); ok && int(want) > selected {
			r.addf("spec.minAnnouncingPops", fmt.Sprint(want), "more than the %s selected", plural(selected, "PoP"))
		}
	}
	if r.existing {
		return // an overlap with an applied service is reported on it
	}
	name := r.ref.Name
	for i, str := range spec.GetPrefixes() {
		p, ok := announceable(str, spec.GetAllowLongPrefixes())
		if !ok {
			continue
		}
		for _, other := range ix.prefixOwners().overlapping(p) {
			if other == name {
				continue
			}
			e := r.addf(idx("spec.prefixes", i), str, "overlaps AnycastService %q", other)
			e.other = resource.Ref{Kind: v1.Kind_KIND_ANYCAST_SERVICE, Name: other}
		}
	}
}

// announceable parses a prefix that passes the announce rules. Prefixes
// that do not (a default route overlaps everything) are left out of the
// overlap rule: their own refusal says enough.
func announceable(s string, allowLong bool) (netip.Prefix, bool) {
	p, err := ParsePrefix(s)
	if err != nil || CheckAnnouncePrefix(p, allowLong) != nil {
		return netip.Prefix{}, false
	}
	return p, true
}

// plural renders a count of things: "1 PoP", "4 PoPs".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
