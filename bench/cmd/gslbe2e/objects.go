//go:build linux

package main

import (
	"net/netip"
	"slices"

	"github.com/anyctl/anyctl/bench/gslbscale"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation/validationtest"
)

// declared is what the benchmark applies: the objects of bench/gslbscale's
// snapshot (origins in metros over every continent, PoPs with cache
// networks, one zone, the records) as an operator declares them, and the
// RTTs each PoP's simulated agent reports.
type declared struct {
	snap    *v1.GslbSnapshot
	pops    []*v1.Pop
	origins []*v1.Origin
	zone    *v1.GslbZone
	records []*v1.GslbRecord
}

// The snapshot is not validated; the controller refuses an AAAA record
// none of whose origins has an IPv6 address. Such records are left out
// and the next ones generated take their places (a larger snapshot of the
// same seed begins with the same records).
func declare(records, origins int, seed uint64) declared {
	snap := gslbscale.Snapshot(2*records, origins, seed)
	v6 := map[string]bool{}
	for _, o := range snap.GetOrigins() {
		v6[o.GetName()] = slices.ContainsFunc(o.GetSpec().GetAddresses(), func(a string) bool {
			ip, err := netip.ParseAddr(a)
			return err == nil && ip.Is6()
		})
	}
	d := declared{snap: snap, zone: snap.GetZones()[0]}
	for _, r := range snap.GetRecords() {
		s := r.GetSpec()
		if s.GetType() == v1.RecordType_RECORD_TYPE_AAAA && s.GetPops() == nil &&
			!slices.ContainsFunc(s.GetOrigins(), func(o string) bool { return v6[o] }) {
			continue
		}
		if d.records = append(d.records, r); len(d.records) == records {
			break
		}
	}
	for _, o := range snap.GetOrigins() {
		d.origins = append(d.origins, &v1.Origin{Metadata: &v1.ObjectMeta{Name: o.GetName()}, Spec: o.GetSpec()})
	}
	for i, p := range snap.GetPops() {
		// The BGP side (ASN, router ID, a peer) of the fleet benchmarks'
		// PoPs; the GSLB side of the snapshot's.
		pop := validationtest.Pop(i)
		pop.Metadata.Name = p.GetName()
		pop.Spec.Location = p.GetLocation()
		pop.Spec.UnicastAddresses = p.GetUnicastAddresses()
		pop.Spec.CacheNetworks = p.GetCacheNetworks()
		d.pops = append(d.pops, pop)
	}
	return d
}

// objects returns every object in the order an apply takes them: what is
// referred to before what refers to it.
func (d declared) objects() []*v1.Object {
	var out []*v1.Object
	for _, p := range d.pops {
		out = append(out, resource.Wrap(p))
	}
	for _, o := range d.origins {
		out = append(out, resource.Wrap(o))
	}
	out = append(out, resource.Wrap(d.zone))
	for _, r := range d.records {
		out = append(out, resource.Wrap(r))
	}
	return out
}
