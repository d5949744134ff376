//go:build linux

package main

import (
	"testing"

	"github.com/anyctl/anyctl/validation"
)

// The objects must pass the controller's validation, or the benchmark
// stops at its first Apply.
func TestDeclaredObjectsValidate(t *testing.T) {
	for _, n := range []int{50, 5000} {
		d := declare(n, 50, 1)
		if len(d.Records) != n {
			t.Fatalf("%d records asked: got %d", n, len(d.Records))
		}
		opts := validation.Options{AllowedPrefixes: validation.DefaultAllowedPrefixes()}
		if err := validation.CheckApply(d.Objects(), nil, opts); err != nil {
			t.Fatalf("%d records: %v", n, err)
		}
		if pick(d.Records) == nil {
			t.Fatalf("%d records: none answers with the nearest origin", n)
		}
	}
}

// Records are kept in the generator's order: a larger run begins with the
// records of a smaller one.
func TestDeclaredRecordsArePrefixes(t *testing.T) {
	small, large := declare(100, 50, 1).Records, declare(1000, 50, 1).Records
	for i, r := range small {
		if r.GetMetadata().GetName() != large[i].GetMetadata().GetName() || r.GetSpec().GetType() != large[i].GetSpec().GetType() {
			t.Fatalf("record %d: %s in the small run, %s in the large one", i, r.GetMetadata().GetName(), large[i].GetMetadata().GetName())
		}
	}
}
