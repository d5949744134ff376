package agent

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/agent/speaker/speakertest"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestSessionMoveIsInvisibleToRouters: the replica the agent streams
// from stops and the agent moves to the other, which sends the same
// config: the router's session stays up and neither service's prefix
// is withdrawn or announced again, not even the one that withdraws on
// controller loss, as the controller was never unreachable. The state
// moved on meanwhile for another PoP only: the config is the same at a
// newer revision, which the agent applies without a word to the router.
func TestSessionMoveIsInvisibleToRouters(t *testing.T) {
	l := startApplyLab(t, 2)
	l.apply(t, 10)
	logs := &syncBuffer{}
	applies := newApplyLog()
	a := l.startAgent(t, logs, 0, applies.applying)
	l.awaitMED(t, 10)
	l.router.AwaitRoute(t, gonePrefix, nil)
	router := netip.MustParseAddr("127.0.0.1")
	speakertest.Await(t, "the agent's session with the router", func() bool { return l.router.Established(router) }, func() string { return "not established" })
	sessions := l.router.SessionsEstablished(router)
	keep, gone := l.router.WatchBest(t, keepPrefix), l.router.WatchBest(t, gonePrefix)

	log := logs.String()
	on := l.streamingFrom(logs)
	objs, err := manifest.Decode(strings.NewReader(londonPop), "london.yaml")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := l.replicas[on].Admin.Apply(l.ctx, &v1.ApplyRequest{Objects: objs})
	if err != nil {
		t.Fatal(err)
	}
	base := len(log)
	l.replicas[on].Stop(t)
	l.stopped[on] = true
	speakertest.Await(t, "the agent to move to the other replica", func() bool {
		return strings.Contains(logs.String()[base:], "controller="+l.socks[1-on]+" held_revision")
	}, func() string { return logs.String()[base:] })
	speakertest.Await(t, "the agent's loop to take the new stream", a.ControllerConnected, func() string { return "not connected" })
	applies.awaitStart(t, resp.GetRevision())
	// A change after the move: once the router has it, it has whatever
	// the agent sent before.
	l.apply(t, 11)
	l.awaitMED(t, 11)
	t.Logf("after the move: %s changed %d times (withdrawn %d), %s changed %d times (withdrawn %d)",
		keepPrefix, keep.Updated(), keep.Withdrawn(), gonePrefix, gone.Updated(), gone.Withdrawn())
	if gone.Withdrawn() != 0 || gone.Updated() != 0 {
		t.Errorf("the move withdrew %s %d times and announced it %d times; want neither; log:\n%s", gonePrefix, gone.Withdrawn(), gone.Updated(), logs.String()[base:])
	}
	if keep.Withdrawn() != 0 || keep.Updated() != 1 {
		t.Errorf("%s withdrawn %d times and changed %d times; want only the change after the move", keepPrefix, keep.Withdrawn(), keep.Updated())
	}
	if n := l.router.SessionsEstablished(router); n != sessions {
		t.Errorf("the router's session with the agent came up %d times more during the move; want 0", n-sessions)
	}
}

// londonPop is a PoP the agent of tokyo gets nothing of.
const londonPop = `
apiVersion: anycast.anyctl.io/v1
kind: Pop
metadata: {name: london}
spec:
  location: {latitude: 51.5074, longitude: -0.1278, country: GB, continent: EU, region: emea, city: London}
  localAsn: 64512
  routerId: 192.0.2.253
  peers:
    - {address: 198.51.100.1, peerAsn: 64501}
`

// TestSessionLossWithdrawsAfterTheGrace: with its only replica stopped,
// the agent counts the controller unreachable once the loss grace has
// passed without a stream: the service that withdraws on controller loss
// is withdrawn then, not before, and the other stays announced.
func TestSessionLossWithdrawsAfterTheGrace(t *testing.T) {
	l := startApplyLab(t, 1)
	l.apply(t, 10)
	logs := &syncBuffer{}
	l.startAgent(t, logs, 0, nil)
	l.awaitMED(t, 10)
	l.router.AwaitRoute(t, gonePrefix, nil)
	gone := l.router.WatchBest(t, gonePrefix)

	stopped := time.Now()
	l.replicas[0].Stop(t)
	l.stopped[0] = true
	l.router.AwaitNoRoute(t, gonePrefix)
	after := time.Since(stopped)
	t.Logf("%s withdrawn %s after the replica stopped (grace %s)", gonePrefix, after.Round(time.Millisecond), controllerLossGrace)
	if after < controllerLossGrace {
		t.Errorf("%s withdrawn %s after the controller went; want the grace (%s) first", gonePrefix, after, controllerLossGrace)
	}
	// The router's watch reports the withdrawal after its table has it.
	speakertest.Await(t, "the router to report the withdrawal", func() bool { return gone.Withdrawn() > 0 },
		func() string { return "no withdrawal reported" })
	if gone.Withdrawn() != 1 {
		t.Errorf("%s withdrawn %d times; want once", gonePrefix, gone.Withdrawn())
	}
	if _, ok := l.router.Route(t, keepPrefix); !ok {
		t.Errorf("%s (keep the last state) withdrawn on controller loss", keepPrefix)
	}
	if !strings.Contains(logs.String(), "controller counts as unreachable") {
		t.Errorf("the agent did not say it counts the controller unreachable; log:\n%s", logs.String())
	}
}
