package controller

import (
	"context"
	"testing"

	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func budgetState(min uint32) *resource.State {
	pop := func(name string) *v1.Object {
		return resource.Wrap(&v1.Pop{Metadata: &v1.ObjectMeta{Name: name}, Spec: &v1.PopSpec{}})
	}
	svc := resource.Wrap(&v1.AnycastService{
		Metadata: &v1.ObjectMeta{Name: "edge"},
		Spec:     &v1.AnycastServiceSpec{Pops: &v1.PopSelector{All: true}, MinAnnouncingPops: min},
	})
	return resource.NewState(pop("a"), pop("b"), pop("c"), pop("d"), svc)
}

func checkReport(up bool) *v1.PopStatus {
	last := "ok"
	if !up {
		last = "dial tcp: connection refused"
	}
	return &v1.PopStatus{Checks: []*v1.CheckStatus{{Service: "edge", Healthy: up, LastResult: last}}}
}

func TestComputeHolds(t *testing.T) {
	tests := []struct {
		name    string
		min     uint32
		healthy map[string]bool // absent: no live report
		drains  []string
		prev    []string
		want    []string
	}{
		{"all healthy: no hold", 2, map[string]bool{"a": true, "b": true, "c": true, "d": true}, nil, nil, nil},
		{"enough healthy: no hold", 2, map[string]bool{"a": true, "b": true, "c": false, "d": false}, nil, nil, nil},
		{"one short: hold the first failing", 2, map[string]bool{"a": true, "b": false, "c": false, "d": false}, nil, nil, []string{"b"}},
		{"everything failing: hold min", 2, map[string]bool{"a": false, "b": false, "c": false, "d": false}, nil, nil, []string{"a", "b"}},
		{"previous holds are kept", 2, map[string]bool{"a": false, "b": false, "c": false, "d": false}, nil, []string{"d"}, []string{"a", "d"}},
		{"silent agents cannot be held", 3, map[string]bool{"a": false}, nil, nil, []string{"a"}},
		{"draining PoPs are not held", 2, map[string]bool{"a": false, "b": false, "c": true, "d": true}, []string{"c"}, nil, []string{"a"}},
		{"no minimum: no hold", 0, map[string]bool{"a": false, "b": false}, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reports := map[string]*v1.PopStatus{}
			for pop, up := range tt.healthy {
				reports[pop] = checkReport(up)
			}
			drains := map[string]store.DrainRecord{}
			for _, p := range tt.drains {
				drains[p] = store.DrainRecord{Draining: true}
			}
			got, err := computeHolds(context.Background(), budgetState(tt.min), reports, drains, map[string][]string{"edge": tt.prev})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got["edge"], cmpopts.EquateEmpty()); d != "" {
				t.Errorf("holds (-want +got):\n%s", d)
			}
		})
	}
}

// TestComputeHoldsStopsWithItsContext: a stopping leader must not wait for
// a budget pass over a large state.
func TestComputeHoldsStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	reports := map[string]*v1.PopStatus{"a": checkReport(false), "b": checkReport(false)}
	if holds, err := computeHolds(ctx, budgetState(2), reports, nil, nil); err == nil {
		t.Fatalf("computeHolds with its context ended returned %v, want the context's error", holds)
	}
}
