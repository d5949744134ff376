package validation

import (
	"fmt"
	"slices"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation/validationtest"
)

// TestZoneScaleIsValid keeps the scale benchmarks' state valid (at a
// smaller size): a benchmark of applying it would otherwise measure a
// refusal.
func TestZoneScaleIsValid(t *testing.T) {
	objs := validationtest.ZoneScale(300, 10, 120)
	if err := CheckApply(objs, nil, testOpts); err != nil {
		t.Fatal(err)
	}
	st := resource.NewState(objs...)
	for _, o := range validationtest.ZoneScaleChanges(120, 1) {
		if err := CheckApply([]*v1.Object{o}, st, testOpts); err != nil {
			t.Errorf("%s: %v", resource.RefOf(o), err)
		}
	}
	if err := CheckDelete(resource.Ref{Kind: v1.Kind_KIND_GSLB_ZONE, Name: validationtest.NestedZoneName(119)}, st); err != nil {
		t.Error(err)
	}
}

// BenchmarkCheckApplyZoneScale validates an apply of one changed object
// (CheckApply, then Warnings, as the Admin API's Apply runs them) against
// 5,000 GslbRecords and 1,000 nested zones of 20 static records.
func BenchmarkCheckApplyZoneScale(b *testing.B) {
	const zones = 1000
	st := resource.NewState(validationtest.ZoneScale(5000, 50, zones)...)
	for _, o := range validationtest.ZoneScaleChanges(zones, 1) {
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
		objs := validationtest.ZoneScale(n.records, 50, n.zones)
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
	st := resource.NewState(validationtest.ZoneScale(5000, 50, zones)...)
	ref := resource.Ref{Kind: v1.Kind_KIND_GSLB_ZONE, Name: validationtest.NestedZoneName(zones - 1)}
	b.ReportAllocs()
	for b.Loop() {
		if err := CheckDelete(ref, st); err != nil {
			b.Fatal(err)
		}
	}
}

// bigZone is one zone of n static records: a tenth of them delegations,
// each with the A record of its name server (its glue), the rest A
// records.
func bigZone(n int) *v1.Object {
	z := validationtest.NestedZone(0, 1)
	z.Spec.Records = nil
	for i := range n {
		var rec *v1.StaticRecord
		switch i % 10 {
		case 0:
			rec = &v1.StaticRecord{Name: fmt.Sprintf("d%d", i), Type: v1.RecordType_RECORD_TYPE_NS, Values: []string{fmt.Sprintf("ns.d%d", i)}}
		case 1:
			rec = &v1.StaticRecord{Name: fmt.Sprintf("ns.d%d", i-1), Type: v1.RecordType_RECORD_TYPE_A, Values: []string{fmt.Sprintf("203.0.%d.%d", i/256%256, i%256)}}
		default:
			rec = &v1.StaticRecord{Name: fmt.Sprintf("h%d", i), Type: v1.RecordType_RECORD_TYPE_A, Values: []string{fmt.Sprintf("198.18.%d.%d", i/256%256, i%256)}}
		}
		z.Spec.Records = append(z.Spec.Records, rec)
	}
	return resource.Wrap(z)
}

// BenchmarkCheckApplyBigZone validates an apply of one zone of 5,000,
// 10,000 and 20,000 static records, a tenth of them delegations: its
// cost should grow with the records, not with records times delegations.
func BenchmarkCheckApplyBigZone(b *testing.B) {
	for _, n := range []int{5000, 10000, 20000} {
		z := bigZone(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := CheckApply([]*v1.Object{z}, nil, testOpts); err != nil {
					b.Fatal(err)
				}
				Warnings([]*v1.Object{z}, nil)
			}
		})
	}
}
