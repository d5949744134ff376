package agent

import (
	"fmt"

	"github.com/anyctl/anyctl/agent/speaker"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/validation"
)

// attributes builds the path attributes of a service's announcements.
func attributes(svc *v1.ServiceAssignment, mode v1.AnnounceMode) (speaker.Announcement, error) {
	var a speaker.Announcement
	ann := svc.GetAnnounce()
	for _, c := range ann.GetCommunities() {
		v, err := parseCommunity(c)
		if err != nil {
			return a, fmt.Errorf("service %q: %w", svc.GetName(), err)
		}
		a.Communities = append(a.Communities, v)
	}
	for _, c := range ann.GetLargeCommunities() {
		v, err := parseLargeCommunity(c)
		if err != nil {
			return a, fmt.Errorf("service %q: %w", svc.GetName(), err)
		}
		a.LargeCommunities = append(a.LargeCommunities, v)
	}
	if ann.Med != nil {
		med := ann.GetMed()
		a.MED = &med
	}
	if n := ann.GetAsPathPrepend(); n > speaker.MaxPrepend {
		return a, fmt.Errorf("service %q: asPathPrepend %q is above %d, more than the speaker sends", svc.GetName(), fmt.Sprint(n), speaker.MaxPrepend)
	}
	a.Prepend = int(prepends(svc, mode))
	if mode == v1.AnnounceMode_ANNOUNCE_MODE_DRAINING {
		a.Communities = append(a.Communities, speaker.GracefulShutdown)
	}
	return a, nil
}

// prepends is how many prepends a service's announcements carry in mode:
// its own, plus the drain's while draining (the controller's count, or the
// standard validation.DrainPrepend when the agent drains by itself on
// stop), which stop at speaker.MaxPrepend so that a drain never makes a
// route unsendable. An own count above the limit is returned as it is, for
// attributes to refuse.
func prepends(svc *v1.ServiceAssignment, mode v1.AnnounceMode) uint64 {
	own := uint64(svc.GetAnnounce().GetAsPathPrepend())
	if mode != v1.AnnounceMode_ANNOUNCE_MODE_DRAINING || own >= speaker.MaxPrepend {
		return own
	}
	drain := uint64(svc.GetDrainPrepend())
	if drain == 0 {
		drain = validation.DrainPrepend
	}
	return min(own+drain, speaker.MaxPrepend)
}

// setAttrStatus reports the attributes as they are sent.
func setAttrStatus(st *v1.PrefixStatus, svc *v1.ServiceAssignment, mode v1.AnnounceMode) {
	ann := svc.GetAnnounce()
	st.Communities = append([]string(nil), ann.GetCommunities()...)
	st.LargeCommunities = append([]string(nil), ann.GetLargeCommunities()...)
	st.Med = ann.Med
	st.AsPathPrepend = uint32(prepends(svc, mode))
	if mode == v1.AnnounceMode_ANNOUNCE_MODE_DRAINING {
		st.Communities = append(st.Communities, "65535:0")
	}
}

// parseCommunity reads an RFC 1997 community with the parser the
// controller validates with.
func parseCommunity(s string) (uint32, error) {
	v, err := validation.ParseCommunity(s)
	if err != nil {
		return 0, fmt.Errorf("community %q: %w", s, err)
	}
	return v, nil
}

// parseLargeCommunity reads an RFC 8092 large community with the parser
// the controller validates with.
func parseLargeCommunity(s string) (speaker.LargeCommunity, error) {
	v, err := validation.ParseLargeCommunity(s)
	if err != nil {
		return speaker.LargeCommunity{}, fmt.Errorf("large community %q: %w", s, err)
	}
	return speaker.LargeCommunity{Global: v[0], Local1: v[1], Local2: v[2]}, nil
}
