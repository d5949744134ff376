package agent

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/anyctl/anyctl/agent/speaker"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/validation"
)

// attributes are the path attributes of a service's announcements, before
// a drain adds to them.
type attributes struct {
	communities []uint32
	large       []speaker.LargeCommunity
	med         *uint32
	// own is the service's own AS-path prepend count; drain is the
	// controller's count for a drain, 0 for validation.DrainPrepend.
	own, drain uint32
	// communityText and largeText are the communities as the controller
	// wrote them, for status.
	communityText, largeText []string
	// err says why the attributes cannot be sent; every prefix of the
	// service is then refused.
	err error
}

// acceptAttributes converts a service's announce attributes.
func acceptAttributes(svc *v1.ServiceAssignment) attributes {
	ann := svc.GetAnnounce()
	a := attributes{
		own:           ann.GetAsPathPrepend(),
		drain:         svc.GetDrainPrepend(),
		communityText: slices.Clone(ann.GetCommunities()),
		largeText:     slices.Clone(ann.GetLargeCommunities()),
	}
	if ann != nil && ann.Med != nil {
		med := ann.GetMed()
		a.med = &med
	}
	for _, c := range ann.GetCommunities() {
		v, err := parseCommunity(c)
		if err != nil {
			a.err = fmt.Errorf("service %q: %w", svc.GetName(), err)
			return a
		}
		a.communities = append(a.communities, v)
	}
	for _, c := range ann.GetLargeCommunities() {
		v, err := parseLargeCommunity(c)
		if err != nil {
			a.err = fmt.Errorf("service %q: %w", svc.GetName(), err)
			return a
		}
		a.large = append(a.large, v)
	}
	if a.own > speaker.MaxPrepend {
		a.err = fmt.Errorf("service %q: asPathPrepend %q is above %d, more than the speaker sends", svc.GetName(), fmt.Sprint(a.own), speaker.MaxPrepend)
	}
	return a
}

// announcement is prefix pfx announced with these attributes in mode; it
// owns its attributes.
func (a *attributes) announcement(pfx netip.Prefix, mode v1.AnnounceMode) speaker.Announcement {
	ann := speaker.Announcement{
		Prefix:           pfx,
		Communities:      slices.Clone(a.communities),
		LargeCommunities: slices.Clone(a.large),
		Prepend:          int(a.prepends(mode)),
	}
	if a.med != nil {
		med := *a.med
		ann.MED = &med
	}
	if mode == v1.AnnounceMode_ANNOUNCE_MODE_DRAINING {
		ann.Communities = append(ann.Communities, speaker.GracefulShutdown)
	}
	return ann
}

// prepends is how many prepends the announcements carry in mode: the own
// count, plus the drain's while draining (the controller's count, or the
// standard validation.DrainPrepend when the agent drains by itself on
// stop), which stop at speaker.MaxPrepend so that a drain never makes a
// route unsendable. An own count above the limit is returned as it is (err
// refuses it).
func (a *attributes) prepends(mode v1.AnnounceMode) uint64 {
	own := uint64(a.own)
	if mode != v1.AnnounceMode_ANNOUNCE_MODE_DRAINING || own >= speaker.MaxPrepend {
		return own
	}
	drain := uint64(a.drain)
	if drain == 0 {
		drain = validation.DrainPrepend
	}
	return min(own+drain, speaker.MaxPrepend)
}

// setStatus reports the attributes as they are sent in mode.
func (a *attributes) setStatus(st *v1.PrefixStatus, mode v1.AnnounceMode) {
	st.Communities = append([]string(nil), a.communityText...)
	st.LargeCommunities = append([]string(nil), a.largeText...)
	st.Med = a.med
	st.AsPathPrepend = uint32(a.prepends(mode))
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
