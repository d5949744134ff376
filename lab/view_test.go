package lab

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// prefixView is what one router knows of one anycast prefix: a vantage's
// view, from FRR or BIRD alike.
type prefixView struct {
	best      string            // the PoP of the best path; "" with none
	kernel    string            // the PoP the kernel route points to; "none"
	paths     map[string]string // AS path by PoP
	localPref map[string]int    // by PoP; BIRD only
	stale     map[string]bool   // by PoP; FRR only: kept for a PoP in graceful restart
	since     map[string]string // by PoP; BIRD only: when it took the route
}

func (p prefixView) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "best %q, kernel %s", p.best, p.kernel)
	for _, pop := range slices.Sorted(maps.Keys(p.paths)) {
		fmt.Fprintf(&b, "; %s path [%s]", pop, p.paths[pop])
		if lp, ok := p.localPref[pop]; ok {
			fmt.Fprintf(&b, " local-pref %d", lp)
		}
	}
	return b.String()
}

// prefixView reads v's router's paths to v's anycast prefix and its kernel
// route.
func (l *labEnv) prefixView(t *testing.T, v vantage) prefixView {
	t.Helper()
	pv := prefixView{paths: map[string]string{}, localPref: map[string]int{}, stale: map[string]bool{}, since: map[string]string{}}
	switch v.up {
	case frr:
		for _, p := range l.frrPaths(t, v.fam, v.fam.prefix) {
			pv.paths[p.pop] = p.asPath
			pv.stale[p.pop] = p.stale
			if p.best {
				pv.best = p.pop
			}
		}
	case bird:
		for _, r := range l.birdRoutes(t, v.fam.prefix) {
			pv.paths[r.pop()] = r.asPath
			pv.localPref[r.pop()] = r.localPref
			pv.since[r.pop()] = r.since
			if r.best {
				pv.best = r.pop()
			}
		}
	default:
		t.Fatalf("no reader for router %v", v.up)
	}
	pv.kernel = l.kernelRoute(t, v)
	return pv
}

// peerPrepends are the prepends a PoP's own peer config asks for toward
// an upstream (lab.yaml's announce.asPathPrepend): newyork's to BIRD.
var peerPrepends = map[upstream]map[string]int{bird: {"newyork": 1}}

// distancePath is the AS path u should have from pop: the PoP's AS, the
// prepends pop's peer config asks for toward u, and the hops u's inbound
// policy prepends for distance (0, 1 and 2 for tokyo, london and newyork).
func distancePath(u upstream, pop string) string {
	n := popNumber(pop) + peerPrepends[u][pop]
	return strings.TrimSpace(strings.Repeat(popASN+" ", n))
}
