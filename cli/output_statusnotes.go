package cli

import (
	"fmt"
	"io"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// writeStatusNotes lists, under the fleet table, what the table has no
// column for: a second agent refused for a PoP that had a live one, and an
// agent that refused the config it had persisted. It writes nothing when
// there is neither.
func writeStatusNotes(w io.Writer, pops []*v1.PopStatusEntry, now time.Time) {
	var lines []string
	for _, e := range pops {
		if r := e.GetRefusedAgent(); r != nil {
			lines = append(lines, e.GetPop()+": "+refusedAgentNote(r, now))
		}
		if why := e.GetStatus().GetPersistedConfigRefused(); why != "" {
			lines = append(lines, e.GetPop()+": "+persistedRefusedNote(why))
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "\nNotes:\n")
	for _, l := range lines {
		fmt.Fprintf(w, "  %s\n", l)
	}
}

// refusedAgentNote says which second agent was refused, when, by which
// controller, and which agent is live.
func refusedAgentNote(r *v1.AgentRefusal, now time.Time) string {
	return fmt.Sprintf("a second agent, from %s, was refused %s ago by controller %s: the PoP's live agent is from %s since %s; stop one of them, or give it another PoP",
		r.GetAddress(), roundAge(now.Sub(r.GetAt().AsTime())), r.GetController(), r.GetLiveAgentAddress(),
		r.GetLiveAgentSince().AsTime().UTC().Format("2006-01-02 15:04:05Z"))
}

func persistedRefusedNote(why string) string {
	return "the agent refused its persisted config at start (announcing nothing until the controller's config came): " + why
}
