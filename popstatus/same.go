// Package popstatus holds what the agent and the controller agree on about
// a PoP's status report: when two reports say the same thing (Same), so
// that the controller does not store an unchanged one again and the agent
// need not send it again, and how finely an origin's RTT counts (RoundRTT).
package popstatus

import (
	"slices"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Same reports whether an agent's report next says nothing that the
// stored report does not, so that it need not be written to etcd again.
// Fields that move on every report without changing what the PoP does
// are ignored: when it was reported (the lease proves the agent lives),
// how long a check's last probe took and its streak of identical results,
// how much hold-down is left (whether it is held down is compared), and an
// origin's RTT within a step of the rounding the GSLB snapshot applies
// (SameRTT).
// Everything else is compared field by field, without copying: this runs
// on every report of every agent.
func Same(stored, next *v1.PopStatus) bool {
	return stored.GetConfigRevision() == next.GetConfigRevision() && SameButRevision(stored, next)
}

// SameButRevision is Same with the config revision left out: next says
// nothing the stored report does not but, perhaps, that the agent runs
// another config revision, as every agent reports after a change.
func SameButRevision(stored, next *v1.PopStatus) bool {
	return stored.GetPop() == next.GetPop() &&
		stored.GetAgentVersion() == next.GetAgentVersion() &&
		stored.GetPersistedConfigRefused() == next.GetPersistedConfigRefused() &&
		slices.EqualFunc(stored.GetPeers(), next.GetPeers(), samePeer) &&
		slices.EqualFunc(stored.GetPrefixes(), next.GetPrefixes(), samePrefix) &&
		slices.EqualFunc(stored.GetChecks(), next.GetChecks(), sameCheck) &&
		slices.EqualFunc(stored.GetOriginProbes(), next.GetOriginProbes(), sameOriginProbe)
}

func samePeer(a, b *v1.PeerStatus) bool {
	return a.GetAddress() == b.GetAddress() && a.GetPeerAsn() == b.GetPeerAsn() && a.GetState() == b.GetState() &&
		sameTime(a.GetUpSince(), b.GetUpSince()) && a.GetPrefixesSent() == b.GetPrefixesSent() &&
		a.GetPrefixesReceived() == b.GetPrefixesReceived() && a.GetLastProblem() == b.GetLastProblem() &&
		sameTime(a.GetLastProblemAt(), b.GetLastProblemAt())
}

func samePrefix(a, b *v1.PrefixStatus) bool {
	return a.GetPrefix() == b.GetPrefix() && a.GetService() == b.GetService() && a.GetAnnounced() == b.GetAnnounced() &&
		a.GetMode() == b.GetMode() && a.GetReason() == b.GetReason() &&
		slices.Equal(a.GetCommunities(), b.GetCommunities()) && slices.Equal(a.GetLargeCommunities(), b.GetLargeCommunities()) &&
		(a.Med == nil) == (b.Med == nil) && a.GetMed() == b.GetMed() && a.GetAsPathPrepend() == b.GetAsPathPrepend()
}

func sameCheck(a, b *v1.CheckStatus) bool {
	return a.GetService() == b.GetService() && a.GetHealthy() == b.GetHealthy() && a.GetLastResult() == b.GetLastResult() &&
		a.GetFlaps() == b.GetFlaps() && (positive(a.GetHoldDownLeft()) == positive(b.GetHoldDownLeft()))
}

func sameOriginProbe(a, b *v1.OriginProbeResult) bool {
	return a.GetOrigin() == b.GetOrigin() && a.GetHealthy() == b.GetHealthy() && a.GetLastResult() == b.GetLastResult() &&
		(a.GetRtt() == nil) == (b.GetRtt() == nil) && SameRTT(a.GetRtt().AsDuration(), b.GetRtt().AsDuration())
}

// SameRTT reports whether an RTT measured next says what the stored one
// says: rounded (RoundRTT), at most one step of the stored one's last
// digit apart. An RTT jittering across a rounding boundary (23.4 and
// 23.6 ms, 23 and 24 once rounded) so does not make every report differ,
// and with it the GSLB snapshot every DNS server is sent; one that moves
// further (to 25 ms) does.
func SameRTT(stored, next time.Duration) bool {
	s, n := RoundRTT(stored), RoundRTT(next)
	step := rttStep(s)
	return n >= s-step && n <= s+step
}

// rttStep is the step of a rounded RTT's last kept digit.
func rttStep(d time.Duration) time.Duration {
	us := d.Microseconds()
	scale := int64(1)
	for us/scale >= 100 {
		scale *= 10
	}
	return time.Duration(scale) * time.Microsecond
}

func sameTime(a, b *timestamppb.Timestamp) bool {
	return (a == nil) == (b == nil) && a.GetSeconds() == b.GetSeconds() && a.GetNanos() == b.GetNanos()
}

func positive(d *durationpb.Duration) bool { return d.AsDuration() > 0 }

// RoundRTT keeps two significant digits of an RTT (in microseconds), so
// that jitter does not make a report, or the GSLB snapshot, differ.
func RoundRTT(d time.Duration) time.Duration {
	us := d.Microseconds()
	scale := int64(1)
	for us/scale >= 100 {
		scale *= 10
	}
	return time.Duration((us+scale/2)/scale*scale) * time.Microsecond
}
