package speakertest

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/anyctl/anyctl/agent/speaker"
)

// AwaitTimeout bounds every Await helper. A speaker's first connection
// attempt comes one to two seconds after it adds a neighbour.
var AwaitTimeout = 30 * time.Second

const pollEvery = 10 * time.Millisecond

// Await polls cond until it holds, failing the test after AwaitTimeout with
// what describe says about the last poll.
func Await(t testing.TB, what string, cond func() bool, describe func() string) {
	t.Helper()
	deadline := time.Now().Add(AwaitTimeout)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; last seen: %s", AwaitTimeout, what, describe())
		}
		<-tick.C
	}
}

// AwaitRoute waits until the router's best route for prefix satisfies ok
// (nil accepts any) and returns it.
func (r *Router) AwaitRoute(t testing.TB, prefix netip.Prefix, ok func(Route) bool) Route {
	t.Helper()
	var last Route
	var found bool
	Await(t, "route "+prefix.String(), func() bool {
		last, found = r.Route(t, prefix)
		return found && (ok == nil || ok(last))
	}, func() string {
		if !found {
			return "no route"
		}
		return last.String()
	})
	return last
}

// AwaitNoRoute waits until the router has no route for prefix.
func (r *Router) AwaitNoRoute(t testing.TB, prefix netip.Prefix) {
	t.Helper()
	var last Route
	var found bool
	Await(t, "no route "+prefix.String(), func() bool {
		last, found = r.Route(t, prefix)
		return !found
	}, func() string { return last.String() })
}

// AwaitCount waits until the router holds exactly n prefixes of family.
func (r *Router) AwaitCount(t testing.TB, family speaker.Family, n int) {
	t.Helper()
	var last int
	Await(t, "router to hold the right number of "+family.String()+" prefixes", func() bool {
		last = r.Count(t, family)
		return last == n
	}, func() string { return fmt.Sprintf("%d prefixes, want %d", last, n) })
}

// AwaitEstablished waits until the session with neighbor is up.
func (r *Router) AwaitEstablished(t testing.TB, neighbor netip.Addr) {
	t.Helper()
	Await(t, "session with "+neighbor.String()+" to come up", func() bool { return r.Established(neighbor) },
		func() string { return "not established" })
}

// AwaitDown waits until the session with neighbor is not up.
func (r *Router) AwaitDown(t testing.TB, neighbor netip.Addr) {
	t.Helper()
	Await(t, "session with "+neighbor.String()+" to go down", func() bool { return !r.Established(neighbor) },
		func() string { return "established" })
}
