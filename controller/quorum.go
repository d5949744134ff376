package controller

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/anyctl/anyctl/compile"
	"github.com/anyctl/anyctl/popstatus"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// DefaultOriginDownQuorum is the share of reporting PoPs that must see an
// origin down for the fleet to call it down: more than half.
const DefaultOriginDownQuorum = 0.5

// originVerdicts decides each origin's health from the PoPs' probe reports:
// down when more than quorum of the PoPs reporting on it see it down, so one
// PoP's broken path does not take an origin out for everyone. An origin no
// PoP reports on counts as healthy.
func originVerdicts(reports map[string]*v1.PopStatus, quorum float64) map[string]compile.OriginHealth {
	type tally struct{ up, down []string }
	tallies := map[string]*tally{}
	for pop, st := range reports {
		for _, r := range st.GetOriginProbes() {
			t := tallies[r.GetOrigin()]
			if t == nil {
				t = &tally{}
				tallies[r.GetOrigin()] = t
			}
			if r.GetHealthy() {
				t.up = append(t.up, pop)
			} else {
				t.down = append(t.down, pop)
			}
		}
	}
	out := make(map[string]compile.OriginHealth, len(tallies))
	for origin, t := range tallies {
		sort.Strings(t.down)
		n := len(t.up) + len(t.down)
		down := moreThanShare(len(t.down), n, quorum)
		var reason string
		switch {
		case down:
			reason = fmt.Sprintf("down at %d of %d reporting PoPs (%s): more than %.0f%%", len(t.down), n, strings.Join(t.down, ", "), quorum*100)
		case len(t.down) > 0:
			reason = fmt.Sprintf("up: down at only %d of %d reporting PoPs (%s), not more than %.0f%%", len(t.down), n, strings.Join(t.down, ", "), quorum*100)
		default:
			reason = fmt.Sprintf("up at all %d reporting PoPs", n)
		}
		h := compile.OriginHealth{Healthy: !down, Reason: reason}
		if down {
			h.Verdict = fmt.Sprintf("down at more than %.0f%% of reporting PoPs", quorum*100)
		}
		out[origin] = h
	}
	return out
}

// shareTolerance, times the count, absorbs the binary rounding of a share
// times a count (under 2⁻⁵³ of it) and stays far below the smallest real
// difference of a share given to six decimal places (10⁻⁶) up to a
// million PoPs.
const shareTolerance = 1e-12

// moreThanShare reports whether k of n is more than share of n. 0.7 × 90
// is 62.99999999999999 in floating point, so a plain comparison counted 63
// of 90 (70%) as more than 70%.
func moreThanShare(k, n int, share float64) bool {
	return float64(k) > share*float64(n)+shareTolerance*float64(max(n, 1))
}

// rttMatrix collects each PoP's measured RTT to each origin it reaches.
func rttMatrix(reports map[string]*v1.PopStatus) map[string]map[string]time.Duration {
	out := map[string]map[string]time.Duration{}
	for pop, st := range reports {
		for _, r := range st.GetOriginProbes() {
			if !r.GetHealthy() || r.GetRtt() == nil {
				continue
			}
			if out[pop] == nil {
				out[pop] = map[string]time.Duration{}
			}
			out[pop][r.GetOrigin()] = roundRTT(r.GetRtt().AsDuration())
		}
	}
	return out
}

// roundRTT keeps two significant digits of an RTT, so that jitter does
// not recompile the GSLB snapshot on every report while the latency policy
// still sees real differences; reports compare RTTs at the same rounding.
func roundRTT(d time.Duration) time.Duration { return popstatus.RoundRTT(d) }
