package compile

import "testing"

func TestBudgetHoldMarksOnlyHeldAssignments(t *testing.T) {
	obs := fleetObserved()
	obs.Held = map[string][]string{"web": {"ams"}}
	configs := PopConfigs(fleetState(), obs)
	for pop, cfg := range configs {
		for _, a := range cfg.GetServices() {
			want := pop == "ams" && a.GetName() == "web"
			if a.GetBudgetHold() != want {
				t.Errorf("PoP %q service %q: budget_hold %v, want %v", pop, a.GetName(), a.GetBudgetHold(), want)
			}
		}
	}
}
