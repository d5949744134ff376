package validation

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/anyctl/anyctl/bench/gslbscale"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation/validationtest"
	"google.golang.org/protobuf/proto"
)

// gslbObjects returns what bench/cmd/gslbe2e applies: bench/gslbscale's
// PoPs, origins, zone and records records (records whose AAAA no origin
// can answer left out, as gslbe2e does), in the order an apply takes them.
func gslbObjects(records, origins int) []*v1.Object {
	snap := gslbscale.Snapshot(2*records, origins, 1)
	v6 := map[string]bool{}
	var out []*v1.Object
	for i, p := range snap.GetPops() {
		pop := validationtest.Pop(i)
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

// zoneScale is the state of the scale benchmarks: gslbe2e's 5,000 records
// over 50 origins in one zone, and 1,000 nested zones of 20 static
// records each.
func zoneScale(records, origins, zones int) []*v1.Object {
	return append(gslbObjects(records, origins), validationtest.NestedZones(zones)...)
}

// TestZoneScaleIsValid keeps the scale benchmarks' state valid (at a
// smaller size): a benchmark of applying it would otherwise measure a
// refusal.
func TestZoneScaleIsValid(t *testing.T) {
	objs := zoneScale(300, 10, 120)
	if err := CheckApply(objs, nil, testOpts); err != nil {
		t.Fatal(err)
	}
	st := resource.NewState(objs...)
	for _, o := range scaleChanges(120) {
		if err := CheckApply([]*v1.Object{o}, st, testOpts); err != nil {
			t.Errorf("%s: %v", resource.RefOf(o), err)
		}
	}
	if err := CheckDelete(resource.Ref{Kind: v1.Kind_KIND_GSLB_ZONE, Name: validationtest.NestedZoneName(119)}, st); err != nil {
		t.Error(err)
	}
}

// scaleChanges returns one changed object of each kind the scale
// benchmarks apply to zoneScale(_, _, zones): a GslbRecord, the
// GslbRecords' zone, a nested zone with nested zones, a leaf zone.
func scaleChanges(zones int) []*v1.Object {
	objs := gslbObjects(1, 1)
	rec := proto.Clone(objs[len(objs)-1]).(*v1.Object)
	rec.GetGslbRecord().Spec.Ttl++
	gz := proto.Clone(objs[len(objs)-2]).(*v1.Object)
	gz.GetGslbZone().Spec.DefaultTtl++
	mid := validationtest.NestedZone(1, zones)
	mid.Spec.DefaultTtl++
	leaf := validationtest.NestedZone(zones-1, zones)
	leaf.Spec.DefaultTtl++
	return []*v1.Object{rec, gz, resource.Wrap(mid), resource.Wrap(leaf)}
}

// BenchmarkCheckApplyZoneScale validates an apply of one changed object
// (CheckApply, then Warnings, as the Admin API's Apply runs them) against
// 5,000 GslbRecords and 1,000 nested zones of 20 static records.
func BenchmarkCheckApplyZoneScale(b *testing.B) {
	const zones = 1000
	st := resource.NewState(zoneScale(5000, 50, zones)...)
	for _, o := range scaleChanges(zones) {
		b.Run(resource.KindName(resource.RefOf(o).Kind)+"/"+resource.RefOf(o).Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := CheckApply([]*v1.Object{o}, st, testOpts); err != nil {
					b.Fatal(err)
				}
				Warnings([]*v1.Object{o}, st)
			}
		})
	}
}

// BenchmarkCheckApplyBulk validates the apply of a whole state onto an
// empty store at growing sizes, in one apply and in applies of 1,000
// objects each (each against what the ones before stored): its cost
// should grow with the objects, not with their square.
func BenchmarkCheckApplyBulk(b *testing.B) {
	for _, n := range []struct{ records, zones int }{{1250, 250}, {2500, 500}, {5000, 1000}} {
		objs := zoneScale(n.records, 50, n.zones)
		b.Run(fmt.Sprintf("one/%d", len(objs)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := CheckApply(objs, nil, testOpts); err != nil {
					b.Fatal(err)
				}
				Warnings(objs, nil)
			}
		})
		b.Run(fmt.Sprintf("batches/%d", len(objs)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				st := resource.NewState()
				for batch := range slices.Chunk(objs, 1000) {
					if err := CheckApply(batch, st, testOpts); err != nil {
						b.Fatal(err)
					}
					Warnings(batch, st)
					for _, o := range batch {
						st.Put(o)
					}
				}
			}
		})
	}
}

// BenchmarkCheckDeleteZone validates deleting a leaf zone from the state
// of BenchmarkCheckApplyZoneScale.
func BenchmarkCheckDeleteZone(b *testing.B) {
	const zones = 1000
	st := resource.NewState(zoneScale(5000, 50, zones)...)
	ref := resource.Ref{Kind: v1.Kind_KIND_GSLB_ZONE, Name: validationtest.NestedZoneName(zones - 1)}
	b.ReportAllocs()
	for b.Loop() {
		if err := CheckDelete(ref, st); err != nil {
			b.Fatal(err)
		}
	}
}
