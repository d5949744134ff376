package lab

import (
	"fmt"
	"testing"
	"time"
)

// birdHonoursGshut checks, while london's routes carry GRACEFUL_SHUTDOWN
// (65535:0) before they are withdrawn, that BIRD's import filter has set
// their local preference to 0 and BIRD sends both anycast prefixes to
// newyork. BIRD does not honour the community by itself; FRR does.
func (r *labRun) birdHonoursGshut(t *testing.T, drained time.Time) {
	t.Helper()
	withdrawn := drained.Add(drainPeriod)
	for _, f := range []family{ipv4, ipv6} {
		v := vantage{bird, f}
		var last prefixView
		poll(t, fmt.Sprintf("%v: BIRD to rank london's drained path last and send %s to newyork", v, f.prefix),
			20*time.Millisecond, time.Until(withdrawn), func() bool {
				last = r.l.prefixView(t, v)
				lp, ok := last.localPref["london"]
				return ok && lp == 0 && last.best == "newyork" && last.kernel == "newyork"
			}, func() string { return "BIRD: " + last.String() })
		t.Logf("%v: london's path at local-pref 0 and %s to newyork %v after the drain command", v, f.prefix, ms(time.Since(drained)))
	}
}
