package validation

import (
	"fmt"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation/validationtest"
)

// TestFleetIsValid keeps the benchmarks' generated fleet valid: a
// benchmark of applying it would otherwise measure a refusal.
func TestFleetIsValid(t *testing.T) {
	if err := CheckApply(validationtest.Fleet(2000), nil, testOpts); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkCheckApplyOne validates an apply of one changed object of each
// kind against a stored state of 10,000 and 50,000 objects: what one small
// apply costs in validation as the state grows.
func BenchmarkCheckApplyOne(b *testing.B) {
	for _, n := range []int{10000, 50000} {
		st := resource.NewState(validationtest.Fleet(n)...)
		changed := map[string]*v1.Object{
			"Pop":            resource.Wrap(validationtest.Pop(7)),
			"AnycastService": resource.Wrap(validationtest.Service(8)),
			"Origin":         resource.Wrap(validationtest.Origin(9)),
		}
		changed["Pop"].GetPop().Spec.LocalAsn = 64513
		changed["AnycastService"].GetAnycastService().Spec.HoldDown = nil
		changed["Origin"].GetOrigin().Spec.Weight = 20
		for _, kind := range []string{"Pop", "AnycastService", "Origin"} {
			b.Run(fmt.Sprintf("%s/%d", kind, n), func(b *testing.B) {
				for b.Loop() {
					if err := CheckApply([]*v1.Object{changed[kind]}, st, testOpts); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
