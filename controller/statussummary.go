package controller

import (
	"fmt"
	"strings"

	"github.com/anyctl/anyctl/compile"
	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// summarise counts the fleet's PoPs (names, sorted) by drain step, their
// reports, sessions and prefixes, and names the PoPs with a problem,
// refused second agents among them.
func summarise(names []string, reports map[string]*v1.PopStatus, drains map[string]store.DrainRecord, refused map[string]store.AgentRefusal) *v1.StatusSummary {
	sum := &v1.StatusSummary{Pops: uint32(len(names))}
	steps := map[v1.DrainStep]uint32{}
	for _, name := range names {
		step := compile.DrainNone
		if r, ok := drains[name]; ok {
			step = r.Step
		}
		steps[drainStepProto(step)]++
		var problems []string
		if r, ok := refused[name]; ok {
			problems = append(problems, fmt.Sprintf("a second agent, from %s, was refused: the live agent is from %s", r.Addr, r.Live.Addr))
		}
		st, ok := reports[name]
		if !ok {
			addProblem(sum, name, strings.Join(append([]string{"no report"}, problems...), "; "))
			continue
		}
		sum.Reporting++
		if why := st.GetPersistedConfigRefused(); why != "" {
			problems = append(problems, "the agent refused its persisted config at start: "+why)
		}
		down := 0
		for _, p := range st.GetPeers() {
			sum.Sessions++
			if p.GetState() == "established" {
				sum.SessionsEstablished++
			} else {
				down++
			}
		}
		if down > 0 {
			problems = append(problems, fmt.Sprintf("%d of %d BGP sessions not established", down, len(st.GetPeers())))
		}
		withdrawn, reason := 0, ""
		for _, p := range st.GetPrefixes() {
			sum.Prefixes++
			if p.GetAnnounced() {
				sum.PrefixesAnnounced++
			} else if withdrawn++; reason == "" {
				reason = p.GetReason()
			}
		}
		// A drained PoP withdraws by design.
		if withdrawn > 0 && step != compile.DrainWithdrawn {
			problems = append(problems, fmt.Sprintf("%d of %d prefixes not announced (%s)", withdrawn, len(st.GetPrefixes()), reason))
		}
		if len(problems) > 0 {
			addProblem(sum, name, strings.Join(problems, "; "))
		}
	}
	for _, s := range []v1.DrainStep{v1.DrainStep_DRAIN_STEP_NONE, v1.DrainStep_DRAIN_STEP_GSLB, v1.DrainStep_DRAIN_STEP_GRACEFUL_SHUTDOWN, v1.DrainStep_DRAIN_STEP_WITHDRAWN} {
		if n := steps[s]; n > 0 {
			sum.Steps = append(sum.Steps, &v1.StepCount{Step: s, Pops: n})
		}
	}
	return sum
}

// addProblem counts a PoP with a problem and names it while there is room.
func addProblem(sum *v1.StatusSummary, pop, problem string) {
	sum.ProblemsTotal++
	if len(sum.Problems) < maxProblemsListed {
		sum.Problems = append(sum.Problems, &v1.PopProblem{Pop: pop, Problem: problem})
	}
}
