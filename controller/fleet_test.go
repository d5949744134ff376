package controller

import (
	"fmt"
	"maps"
	"testing"
)

// heldGauge returns the anyctl_controller_budget_held_pops series by
// service.
func heldGauge(t *testing.T, m *metrics) map[string]float64 {
	t.Helper()
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "anyctl_controller_budget_held_pops" {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "service" {
					out[l.GetValue()] = s.GetGauge().GetValue()
				}
			}
		}
	}
	return out
}

// TestEveryReplicaExportsTheStoredHolds runs a replica that does not lead
// over stored holds: its gauge shows them, follows their changes, and drops
// the series of a service no longer held.
func TestEveryReplicaExportsTheStoredHolds(t *testing.T) {
	h := newHarness(t)
	started := false
	for _, step := range []struct {
		holds map[string][]string
		want  map[string]float64
	}{
		{map[string][]string{"edge": {"london", "newyork"}, "dns": {"tokyo"}}, map[string]float64{"edge": 2, "dns": 1}},
		{map[string][]string{"edge": {"london"}}, map[string]float64{"edge": 1}},
		{map[string][]string{}, map[string]float64{}},
	} {
		h.putHolds(t, step.holds)
		if !started {
			h.run(h.fleet.run) // a replica starting over holds already stored
			started = true
		}
		awaitTrue(t, fmt.Sprintf("held gauge %v for holds %v", step.want, step.holds), func() bool { return maps.Equal(heldGauge(t, h.m), step.want) })
	}
}
