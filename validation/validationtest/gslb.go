package validationtest

import (
	"net/netip"
	"slices"

	"github.com/anyctl/anyctl/bench/gslbscale"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/proto"
)

// Gslb is bench/gslbscale's snapshot as an operator declares it: PoPs
// (with Pop's BGP side), origins in metros over every continent, one
// zone and its records.
type Gslb struct {
	Snapshot *v1.GslbSnapshot
	Pops     []*v1.Pop
	Origins  []*v1.Origin
	Zone     *v1.GslbZone
	Records  []*v1.GslbRecord
}

// DeclareGslb returns records GslbRecords over origins GslbOrigins of
// gslbscale's snapshot for seed. The snapshot is not validated: the
// controller refuses an AAAA record none of whose origins has an IPv6
// address, so such records are left out and the next ones generated take
// their places (a larger snapshot of the same seed begins with the same
// records).
func DeclareGslb(records, origins int, seed uint64) Gslb {
	snap := gslbscale.Snapshot(2*records, origins, seed)
	v6 := map[string]bool{}
	for _, o := range snap.GetOrigins() {
		v6[o.GetName()] = slices.ContainsFunc(o.GetSpec().GetAddresses(), func(a string) bool {
			ip, err := netip.ParseAddr(a)
			return err == nil && ip.Is6()
		})
	}
	d := Gslb{Snapshot: snap, Zone: snap.GetZones()[0]}
	for _, r := range snap.GetRecords() {
		s := r.GetSpec()
		if s.GetType() == v1.RecordType_RECORD_TYPE_AAAA && s.GetPops() == nil &&
			!slices.ContainsFunc(s.GetOrigins(), func(o string) bool { return v6[o] }) {
			continue
		}
		if d.Records = append(d.Records, r); len(d.Records) == records {
			break
		}
	}
	for _, o := range snap.GetOrigins() {
		d.Origins = append(d.Origins, &v1.Origin{Metadata: &v1.ObjectMeta{Name: o.GetName()}, Spec: o.GetSpec()})
	}
	for i, p := range snap.GetPops() {
		// The BGP side (ASN, router ID, a peer) of the fleet benchmarks'
		// PoPs; the GSLB side of the snapshot's.
		pop := Pop(i)
		pop.Metadata.Name = p.GetName()
		pop.Spec.Location = p.GetLocation()
		pop.Spec.UnicastAddresses = p.GetUnicastAddresses()
		pop.Spec.CacheNetworks = p.GetCacheNetworks()
		d.Pops = append(d.Pops, pop)
	}
	return d
}

// Objects returns every object in the order an apply takes them: what is
// referred to before what refers to it.
func (d Gslb) Objects() []*v1.Object {
	var out []*v1.Object
	for _, p := range d.Pops {
		out = append(out, resource.Wrap(p))
	}
	for _, o := range d.Origins {
		out = append(out, resource.Wrap(o))
	}
	out = append(out, resource.Wrap(d.Zone))
	for _, r := range d.Records {
		out = append(out, resource.Wrap(r))
	}
	return out
}

// GslbObjects returns what bench/cmd/gslbe2e applies:
// DeclareGslb(records, origins, 1).Objects().
func GslbObjects(records, origins int) []*v1.Object {
	return DeclareGslb(records, origins, 1).Objects()
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
