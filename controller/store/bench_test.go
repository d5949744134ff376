package store

import (
	"fmt"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// BenchmarkApply1000 applies a thousand objects (800 origins, 200 pops) in
// one transaction against embedded etcd. Every iteration changes every
// object, so each one is compared, diffed and written.
func BenchmarkApply1000(b *testing.B) {
	s, _ := newStore(b)
	objs := func(gen int) []*v1.Object {
		out := make([]*v1.Object, 0, 1000)
		for i := range 800 {
			out = append(out, origin(fmt.Sprintf("origin-%04d", i), int32(gen)))
		}
		for i := range 200 {
			out = append(out, pop(fmt.Sprintf("pop-%04d", i), uint32(64512+gen)))
		}
		return out
	}
	mustApply(b, s, objs(0)...)
	ctx := testContext(b)
	b.ReportAllocs()
	gen := 0
	for b.Loop() {
		b.StopTimer()
		gen++
		in := objs(gen)
		b.StartTimer()
		resp, err := s.Apply(ctx, in, false, nil)
		if err != nil {
			b.Fatal(err)
		}
		if got := resp.GetResults()[999].GetAction(); got != v1.ApplyAction_APPLY_ACTION_UPDATED {
			b.Fatalf("iteration %d: last object %v, want UPDATED", gen, got)
		}
	}
}
