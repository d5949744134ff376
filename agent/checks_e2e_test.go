package agent_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/anyctl/anyctl/agent/speaker/speakertest"
)

// TestAgentKeepsAnnouncingThroughACheckEdit edits an announced service's
// health check (a new target and rise 3). The new checker starts in the old
// one's decision, so the route never leaves the router while the new check
// rises; before, every PoP withdrew the service for rise × interval.
func TestAgentKeepsAnnouncingThroughACheckEdit(t *testing.T) {
	l := startBenchLab(t, 50*time.Millisecond)
	second := startTarget(t)
	l.router.drain()

	l.p.CheckPort, l.p.Rise = second.port, 3
	rev := l.applyOnly(t)
	speakertest.Await(t, "the edited check passing rise times", func() bool {
		st := l.agent.a.Status()
		if st.GetConfigRevision() < rev {
			return false
		}
		for _, c := range st.GetChecks() {
			if c.GetService() == "edge" {
				return c.GetLastResult() == "ok" && c.GetStreak() >= 3
			}
		}
		return false
	}, func() string { return fmt.Sprint(l.agent.a.Status().GetChecks()) })

	for {
		select {
		case ev := <-l.router.events:
			if ev.prefix == benchPrefix && ev.withdrawn {
				t.Fatalf("the router lost %v at %v, after the check edit", benchPrefix, ev.at)
			}
			continue
		default:
		}
		break
	}
	if !l.router.holds(benchPrefix) {
		t.Fatalf("the router does not hold %v after the check edit", benchPrefix)
	}
}
