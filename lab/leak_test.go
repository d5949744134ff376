package lab

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// leakWatch is how long both routers' tables are watched for a leaked
// route once each router offers its own prefixes to every PoP.
const leakWatch = 2 * time.Second

// leak is a route one upstream learned through a PoP that the other
// upstream had sent to the PoPs: the PoPs passed it on, as a transit would.
type leak struct {
	router        upstream // the router that learned it
	prefix        string
	pop, peer     string // the PoP it came through, and its session address
	asPath        string
	fromOtherASN  bool // the AS path runs through the other upstream
	isOtherPrefix bool // the prefix is the other upstream's own
}

func (k leak) String() string {
	o := k.router.other()
	var what string
	switch {
	case k.isOtherPrefix:
		what = fmt.Sprintf("%s's own prefix %s", o.name, k.prefix)
	default:
		what = fmt.Sprintf("%s, a route through %v", k.prefix, o)
	}
	return fmt.Sprintf("%v learned %s from PoP %s (%s) with AS path [%s]", k.router, what, k.pop, k.peer, k.asPath)
}

// noRouteLeak checks that the PoPs announce only their anycast prefixes:
// each router offers its own prefixes (FRR 10.99.0.0/16 and
// 2001:db8:99::/48, BIRD 10.98.0.0/16 and 2001:db8:98::/48) to every PoP,
// and neither may learn the other's through a PoP. Both routers accept
// whatever a PoP sends, so a leak shows in their tables.
func (r *labRun) noRouteLeak(t *testing.T) {
	r.l.awaitOwnOffered(t)
	var leaks []leak
	looks := 0
	for until := time.Now().Add(leakWatch); time.Now().Before(until); time.Sleep(100 * time.Millisecond) {
		looks++
		if leaks = r.l.leaks(t); len(leaks) > 0 {
			break
		}
	}
	for _, k := range leaks {
		t.Errorf("route leak: %v; a PoP must send its upstreams only its anycast prefixes, never what another upstream sent it", k)
	}
	if len(leaks) == 0 {
		t.Logf("neither router learned the other's routes through a PoP over %v (%d looks at both tables)", leakWatch, looks)
	}
}

// leaks lists the routes FRR and BIRD learned from a PoP that came from
// the other router: its own prefixes, or any path through its AS.
func (l *labEnv) leaks(t *testing.T) []leak {
	t.Helper()
	var found []leak
	check := func(router upstream, prefix, peer, asPath string) {
		o := router.other()
		k := leak{router: router, prefix: prefix, pop: popByAddr(peer), peer: peer, asPath: asPath,
			fromOtherASN:  slices.Contains(strings.Fields(asPath), o.asn),
			isOtherPrefix: prefix == o.own4 || prefix == o.own6}
		if k.fromOtherASN || k.isOtherPrefix {
			found = append(found, k)
		}
	}
	for _, f := range []family{ipv4, ipv6} {
		for _, p := range l.frrTable(t, f) {
			check(frr, p.prefix, p.peer, p.asPath)
		}
	}
	for _, r := range l.birdRoutes(t) {
		if r.proto != "own4" && r.proto != "own6" {
			check(bird, r.prefix, r.via, r.asPath)
		}
	}
	slices.SortStableFunc(found, func(a, b leak) int {
		return cmp.Or(strings.Compare(a.router.name, b.router.name), strings.Compare(a.prefix, b.prefix),
			cmp.Compare(popOrder(a.pop), popOrder(b.pop)))
	})
	return found
}

// popOrder ranks PoPs nearest first, and anything else after them.
func popOrder(pop string) int {
	if i := slices.Index(pops, pop); i >= 0 {
		return i
	}
	return len(pops)
}

// awaitOwnOffered waits until each router sends its own prefixes to every
// PoP in both families, so that a missing leak means the PoPs did not pass
// them on, not that there was nothing to pass.
func (l *labEnv) awaitOwnOffered(t *testing.T) {
	t.Helper()
	var missing []string
	poll(t, "each router to send its own prefixes to every PoP", 100*time.Millisecond, 10*time.Second, func() bool {
		missing = nil
		for _, f := range []family{ipv4, ipv6} {
			for _, pop := range pops {
				if !slices.Contains(l.frrAdvertised(t, f, frr.popAddr(f, pop)), frr.own(f)) {
					missing = append(missing, fmt.Sprintf("FRR: %s to %s", frr.own(f), pop))
				}
				proto := pop + f.version
				if !slices.ContainsFunc(l.birdRoutes(t, "export", proto), func(r birdRoute) bool { return r.prefix == bird.own(f) }) {
					missing = append(missing, fmt.Sprintf("BIRD: %s to %s (protocol %s)", bird.own(f), pop, proto))
				}
			}
		}
		return len(missing) == 0
	}, func() string { return "not sent: " + strings.Join(missing, ", ") })
}
