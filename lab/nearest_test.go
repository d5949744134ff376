package lab

import (
	"strconv"
	"strings"
	"testing"
)

// nearestPopEverywhere checks, through both routers and over both
// families, that the router ranks the PoPs by distance and sends the
// anycast prefix to tokyo, and that the client behind it is answered by
// tokyo over HTTP and DNS (lab.sh probe).
func (r *labRun) nearestPopEverywhere(t *testing.T) {
	for _, v := range vantages {
		pv := r.l.prefixView(t, v)
		for _, pop := range pops {
			if got, want := pv.paths[pop], distancePath(v.up, pop); got != want {
				t.Errorf("%v: %v's path to %s from %s has AS path [%s], want [%s]", v, v.up, v.fam.prefix, pop, got, want)
			}
		}
		if pv.best != "tokyo" || pv.kernel != "tokyo" {
			t.Errorf("%v: %v: %v; want tokyo best and in the kernel", v, v.up, pv)
		}
		for _, res := range r.l.probeOnce(t, v, 2) {
			if res.pop != "tokyo" {
				t.Errorf("%v: %s's %v; want tokyo to answer", v, v.up.client, res)
			}
		}
	}
}

// probeOnce has v's client ask v's anycast address n times over HTTP and
// n times over DNS, one request after the other, through lab.sh probe.
func (l *labEnv) probeOnce(t *testing.T, v vantage, n int) []probeResult {
	t.Helper()
	out := l.run(t, "probe", v.up.client, v.fam.version, "-count", strconv.Itoa(n), "-timeout", "1s")
	var results []probeResult
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		res, err := parseProbe(line)
		if err != nil {
			t.Fatalf("lab.sh probe %s %s: %v", v.up.client, v.fam.version, err)
		}
		results = append(results, res)
	}
	if len(results) != 2*n {
		t.Fatalf("lab.sh probe %s %s -count %d: %d results, want %d:\n%s", v.up.client, v.fam.version, n, len(results), 2*n, out)
	}
	return results
}
