package compile

import (
	"slices"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/anyctl/anyctl/resource"
)

// unobservedReason is the health reason of an origin the fleet has no
// verdict on yet.
const unobservedReason = "no quorum verdict yet; counted healthy"

// GslbSnapshot compiles what DNS servers answer from: zones, records, every
// origin with the fleet's health verdict and every PoP with its service state
// and measured RTTs. compiled_at is left unset for the caller to stamp, which
// keeps this function pure.
func GslbSnapshot(s *resource.State, obs Observed) *v1.GslbSnapshot {
	snap := &v1.GslbSnapshot{Revision: s.Revision}
	zones := make(map[string]*v1.GslbZone, len(s.Zones))
	for _, name := range resource.SortedNames(s.Zones) {
		z := compileZone(s.Zones[name], s.Revision)
		zones[name] = z
		snap.Zones = append(snap.Zones, z)
	}
	for _, name := range resource.SortedNames(s.Records) {
		snap.Records = append(snap.Records, compileRecord(s, s.Records[name], zones))
	}
	snap.Origins, snap.Pops = GslbObserved(s, obs)
	return snap
}

// GslbObserved compiles the parts of the GSLB snapshot the observed state
// shapes, its origins and PoPs, as GslbSnapshot does: when only the
// observed state changes, the zones and records compiled before stand.
func GslbObserved(s *resource.State, obs Observed) ([]*v1.SnapshotOrigin, []*v1.SnapshotPop) {
	var origins []*v1.SnapshotOrigin
	for _, name := range resource.SortedNames(s.Origins) {
		origins = append(origins, snapshotOrigin(name, s.Origins[name], obs))
	}
	var pops []*v1.SnapshotPop
	for _, name := range resource.SortedNames(s.Pops) {
		pops = append(pops, snapshotPop(s, name, s.Pops[name], obs))
	}
	return origins, pops
}

// snapshotOrigin copies an origin's spec, traffic dial filled in, with the
// fleet's verdict on it.
func snapshotOrigin(name string, o *v1.Origin, obs Observed) *v1.SnapshotOrigin {
	spec := &v1.OriginSpec{}
	if o.GetSpec() != nil {
		spec = proto.Clone(o.GetSpec()).(*v1.OriginSpec)
	}
	if spec.TrafficDial == nil {
		dial := int32(DefaultTrafficDial)
		spec.TrafficDial = &dial
	}
	h, ok := obs.OriginHealth[name]
	if !ok {
		h = OriginHealth{Healthy: true, Reason: unobservedReason}
	}
	return &v1.SnapshotOrigin{Name: name, Spec: spec, Healthy: h.Healthy, HealthReason: h.Reason}
}

// snapshotPop describes a PoP to DNS servers. It is in service unless in
// maintenance or at any drain step; its RTTs are kept only towards origins
// that exist.
func snapshotPop(s *resource.State, name string, p *v1.Pop, obs Observed) *v1.SnapshotPop {
	spec := p.GetSpec()
	out := &v1.SnapshotPop{
		Name:             name,
		UnicastAddresses: slices.Clone(spec.GetUnicastAddresses()),
		CacheNetworks:    canonicalPrefixes(spec.GetCacheNetworks()),
		InService:        !spec.GetMaintenance() && obs.Drain[name] == DrainNone,
	}
	if loc := spec.GetLocation(); loc != nil {
		out.Location = proto.Clone(loc).(*v1.Location)
	}
	for origin, rtt := range obs.RTT[name] {
		if _, ok := s.Origins[origin]; !ok {
			continue
		}
		if out.Rtt == nil {
			out.Rtt = map[string]*durationpb.Duration{}
		}
		out.Rtt[origin] = durationpb.New(rtt)
	}
	return out
}
