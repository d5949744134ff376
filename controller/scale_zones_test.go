package controller

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation"
	"github.com/anyctl/anyctl/validation/validationtest"
)

// zoneScaleZones is how many nested zones zoneScale holds.
const zoneScaleZones = 1000

// zoneScale is the state of the zone scale benchmarks: gslbe2e's 5,000
// GslbRecords over 50 origins, and 1,000 nested zones of 20 static
// records each.
func zoneScale() []*v1.Object { return validationtest.ZoneScale(5000, 50, zoneScaleZones) }

// zoneScaleAdmin is an Admin API over a harness whose etcd holds objs,
// with its state cache running and loaded.
func zoneScaleAdmin(b *testing.B, objs []*v1.Object) *adminServer {
	b.Helper()
	h := newHarness(b)
	for batch := range slices.Chunk(objs, 5000) {
		if _, err := h.st.Apply(context.Background(), batch, false, nil); err != nil {
			b.Fatal(err)
		}
	}
	h.runCache()
	select {
	case <-h.cache.Ready():
	case <-time.After(time.Minute):
		b.Fatal("the state cache did not load")
	}
	return &adminServer{log: h.log, st: h.st, opts: validation.Options{AllowedPrefixes: validation.DefaultAllowedPrefixes()},
		metrics: h.m, cache: h.cache, observed: h.obs, fleet: h.fleet, reports: h.sw}
}

// BenchmarkApplyZoneScale applies one changed object of each kind of
// validationtest.ZoneScaleChanges through the Admin API to a controller
// holding 5,000 GslbRecords and 1,000 zones: validation (the store's
// and the warnings), the guarded write, the wait for the cache.
func BenchmarkApplyZoneScale(b *testing.B) {
	a := zoneScaleAdmin(b, zoneScale())
	ctx := context.Background()
	for k, o := range validationtest.ZoneScaleChanges(zoneScaleZones, 1) {
		b.Run(resource.KindName(resource.RefOf(o).Kind)+"/"+resource.RefOf(o).Name, func(b *testing.B) {
			b.ReportAllocs()
			gen := uint32(0)
			for b.Loop() {
				gen++
				o := validationtest.ZoneScaleChanges(zoneScaleZones, gen)[k]
				resp, err := a.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{o}})
				if err != nil {
					b.Fatal(err)
				}
				if got := resp.GetResults()[0].GetAction(); got != v1.ApplyAction_APPLY_ACTION_UPDATED {
					b.Fatalf("apply %d: %v, want UPDATED", gen, got)
				}
			}
		})
	}
}

// BenchmarkDeleteZoneScale deletes a leaf zone through the Admin API from
// the state of BenchmarkApplyZoneScale, and puts it back untimed.
func BenchmarkDeleteZoneScale(b *testing.B) {
	a := zoneScaleAdmin(b, zoneScale())
	ctx := context.Background()
	z := resource.Wrap(validationtest.NestedZone(zoneScaleZones-1, zoneScaleZones))
	ref := resource.RefOf(z)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Delete(ctx, &v1.DeleteRequest{Kind: ref.Kind, Name: ref.Name}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if _, err := a.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{z}}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkApplyZoneScaleBulk applies the whole state of
// BenchmarkApplyZoneScale, at a quarter, half and all of its size, to an
// empty controller through the Admin API, as `anyctl apply -f dir` does:
// in one apply, and in applies of 1,000 objects.
func BenchmarkApplyZoneScaleBulk(b *testing.B) {
	for _, n := range []struct{ records, zones int }{{1250, 250}, {2500, 500}, {5000, 1000}} {
		objs := validationtest.ZoneScale(n.records, 50, n.zones)
		for _, size := range []int{len(objs), 1000} {
			b.Run(fmt.Sprintf("%d/per-apply-%d", len(objs), size), func(b *testing.B) {
				b.ReportAllocs()
				for range b.N {
					b.StopTimer()
					a := zoneScaleAdmin(b, nil)
					b.StartTimer()
					for batch := range slices.Chunk(objs, size) {
						if _, err := a.Apply(context.Background(), &v1.ApplyRequest{Objects: batch}); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}
