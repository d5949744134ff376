package validationtest

import (
	"net/netip"
	"slices"

	"github.com/anyctl/anyctl/bench/gslbscale"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/proto"
)

// GslbObjects returns what bench/cmd/gslbe2e applies: bench/gslbscale's
// PoPs (with Pop's BGP side), origins, zone and records GslbRecords
// (those of type AAAA no origin can answer left out, as gslbe2e does),
// in the order an apply takes them.
func GslbObjects(records, origins int) []*v1.Object {
	snap := gslbscale.Snapshot(2*records, origins, 1)
	v6 := map[string]bool{}
	var out []*v1.Object
	for i, p := range snap.GetPops() {
		pop := Pop(i)
		pop.Metadata.Name = p.GetName()
		pop.Spec.Location = p.GetLocation()
		pop.Spec.UnicastAddresses = p.GetUnicastAddresses()
		pop.Spec.CacheNetworks = p.GetCacheNetworks()
		out = append(out, resource.Wrap(pop))
	}
	for _, o := range snap.GetOrigins() {
		v6[o.GetName()] = slices.ContainsFunc(o.GetSpec().GetAddresses(), func(a string) bool {
			ip, err := netip.ParseAddr(a)
			return err == nil && ip.Is6()
		})
		out = append(out, resource.Wrap(&v1.Origin{Metadata: &v1.ObjectMeta{Name: o.GetName()}, Spec: o.GetSpec()}))
	}
	out = append(out, resource.Wrap(snap.GetZones()[0]))
	n := 0
	for _, r := range snap.GetRecords() {
		s := r.GetSpec()
		if s.GetType() == v1.RecordType_RECORD_TYPE_AAAA && s.GetPops() == nil &&
			!slices.ContainsFunc(s.GetOrigins(), func(o string) bool { return v6[o] }) {
			continue
		}
		out = append(out, resource.Wrap(r))
		if n++; n == records {
			break
		}
	}
	return out
}

// ZoneScale is GslbObjects(records, origins) and NestedZones(zones): at
// 5,000, 50 and 1,000, gslbe2e's records and 20,000 static records.
func ZoneScale(records, origins, zones int) []*v1.Object {
	return append(GslbObjects(records, origins), NestedZones(zones)...)
}

// ZoneScaleChanges returns one changed object of each kind the scale
// benchmarks apply to ZoneScale(_, _, zones): a GslbRecord (its TTL), the
// GslbRecords' zone, a zone holding nested zones and a leaf zone (their
// default TTLs), each changed by d.
func ZoneScaleChanges(zones int, d uint32) []*v1.Object {
	objs := GslbObjects(1, 1)
	rec := proto.Clone(objs[len(objs)-1]).(*v1.Object)
	rec.GetGslbRecord().Spec.Ttl += d
	gz := proto.Clone(objs[len(objs)-2]).(*v1.Object)
	gz.GetGslbZone().Spec.DefaultTtl += d
	mid := NestedZone(1, zones)
	mid.Spec.DefaultTtl += d
	leaf := NestedZone(zones-1, zones)
	leaf.Spec.DefaultTtl += d
	return []*v1.Object{rec, gz, resource.Wrap(mid), resource.Wrap(leaf)}
}
