package agent

import (
	"strings"
	"testing"

	"github.com/anyctl/anyctl/agent/speaker/speakertest"
)

// TestSessionNeverTakesAnOlderConfigFromAReplicaBehind: the agent holds
// a config, its replica stops, and the only other replica is cut off
// from etcd with an older state. The agent must not apply that older
// config (undoing a change the operator made, a drain say, and
// persisting it): it keeps the one it holds until a replica can send
// one at least as new.
func TestSessionNeverTakesAnOlderConfigFromAReplicaBehind(t *testing.T) {
	l := startApplyLab(t, 2)
	l.apply(t, 10)
	logs := &syncBuffer{}
	applies := newApplyLog()
	l.startAgent(t, logs, 0, applies.applying)
	l.awaitMED(t, 10)
	on := l.streamingFrom(logs)
	other := 1 - on

	l.proxies[other].Partition()
	newer := l.applyVia(t, on, 20)
	applies.awaitStart(t, newer)
	l.awaitMED(t, 20)
	keep := l.router.WatchBest(t, keepPrefix)
	before := len(applies.applied())
	base := len(logs.String())
	l.replicas[on].Stop(t)
	l.stopped[on] = true
	// The other replica either sends its config or ends the stream.
	speakertest.Await(t, "the agent to hear from the other replica", func() bool {
		log := logs.String()[base:]
		return strings.Contains(log, "controller="+l.socks[other]+" held_revision") ||
			strings.Contains(log, `msg="controller stream ended; reconnecting" pop=tokyo controller=`+l.socks[other])
	}, func() string { return logs.String()[base:] })
	if strings.Contains(logs.String()[base:], "controller="+l.socks[other]+" held_revision") {
		// Connected: the config it sent is the loop's next.
		speakertest.Await(t, "the agent to take the other replica's config", func() bool { return len(applies.applied()) > before },
			func() string { return logs.String()[base:] })
	}
	for _, r := range applies.applied()[before:] {
		if r < newer {
			t.Errorf("the agent applied revision %d after revision %d; log:\n%s", r, newer, logs.String()[base:])
		}
	}
	if route, ok := l.router.Route(t, keepPrefix); !ok || route.MED == nil || *route.MED != 20 {
		t.Errorf("the router has %v for %s, want MED 20 still", route, keepPrefix)
	}
	if u := keep.Updated(); u != 0 {
		t.Errorf("the router's best path for %s changed %d times after the move; want 0", keepPrefix, u)
	}
}
