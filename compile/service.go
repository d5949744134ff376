package compile

import (
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// serviceAssignment compiles a service as every PoP runs it, defaults filled
// in; the announce mode is left for the PoP.
func serviceAssignment(name string, spec *v1.AnycastServiceSpec) *v1.ServiceAssignment {
	holdDown := durationOr(spec.GetHoldDown(), DefaultHoldDown)
	holdDownMax := spec.GetHoldDownMax()
	if holdDownMax == nil {
		holdDownMax = durationpb.New(max(DefaultHoldDownMax, holdDown.AsDuration()))
	} else {
		holdDownMax = proto.Clone(holdDownMax).(*durationpb.Duration)
	}
	onLoss := spec.GetOnControllerLoss()
	if onLoss == v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_UNSPECIFIED {
		onLoss = v1.ControllerLossBehavior_CONTROLLER_LOSS_BEHAVIOR_KEEP_LAST_STATE
	}
	return &v1.ServiceAssignment{
		Name:             name,
		Prefixes:         canonicalPrefixes(spec.GetPrefixes()),
		HealthCheck:      checkWithDefaults(spec.GetHealthCheck()),
		Announce:         announceAttributes(spec.GetAnnounce()),
		HoldDown:         holdDown,
		HoldDownMax:      holdDownMax,
		FlapWindow:       durationOr(spec.GetFlapWindow(), DefaultFlapWindow),
		OnControllerLoss: onLoss,
	}
}

// announceAttributes copies announce attributes with communities in
// canonical order. It never returns nil, so agents need no nil check.
func announceAttributes(a *v1.AnnounceAttributes) *v1.AnnounceAttributes {
	out := &v1.AnnounceAttributes{
		Communities:      canonicalCommunities(a.GetCommunities()),
		LargeCommunities: canonicalLargeCommunities(a.GetLargeCommunities()),
		AsPathPrepend:    a.GetAsPathPrepend(),
	}
	if a != nil && a.Med != nil {
		med := *a.Med
		out.Med = &med
	}
	return out
}
