package controller

import (
	"fmt"
	"testing"
	"time"

	"github.com/anyctl/anyctl/compile"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/durationpb"
)

func probe(origin string, healthy bool, rtt time.Duration) *v1.OriginProbeResult {
	return &v1.OriginProbeResult{Origin: origin, Healthy: healthy, Rtt: durationpb.New(rtt)}
}

func TestOriginVerdicts(t *testing.T) {
	reports := map[string]*v1.PopStatus{
		"tokyo":   {OriginProbes: []*v1.OriginProbeResult{probe("us-east", false, 0), probe("eu-west", false, 0), probe("ap", true, 2*time.Millisecond)}},
		"london":  {OriginProbes: []*v1.OriginProbeResult{probe("us-east", true, 70*time.Millisecond), probe("eu-west", false, 0), probe("ap", true, 200*time.Millisecond)}},
		"newyork": {OriginProbes: []*v1.OriginProbeResult{probe("us-east", true, 8*time.Millisecond), probe("eu-west", true, 70*time.Millisecond)}},
	}
	got := originVerdicts(reports, DefaultOriginDownQuorum)
	want := map[string]compile.OriginHealth{
		"us-east": {Healthy: true, Reason: "up: down at only 1 of 3 reporting PoPs (tokyo), not more than 50%"},
		"eu-west": {Healthy: false, Reason: "down at 2 of 3 reporting PoPs (london, tokyo): more than 50%", Verdict: "down at more than 50% of reporting PoPs"},
		"ap":      {Healthy: true, Reason: "up at all 2 reporting PoPs"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("verdicts (-want +got):\n%s", d)
	}

	// A split vote is not a quorum: 1 of 2 is not more than half.
	split := map[string]*v1.PopStatus{
		"a": {OriginProbes: []*v1.OriginProbeResult{probe("o", false, 0)}},
		"b": {OriginProbes: []*v1.OriginProbeResult{probe("o", true, time.Millisecond)}},
	}
	if v := originVerdicts(split, DefaultOriginDownQuorum)["o"]; !v.Healthy {
		t.Errorf("1 of 2 PoPs seeing the origin down took it out: %+v", v)
	}
}

func TestRTTMatrixSkipsUnhealthyProbes(t *testing.T) {
	reports := map[string]*v1.PopStatus{
		"tokyo":  {OriginProbes: []*v1.OriginProbeResult{probe("ap", true, 2345*time.Microsecond), probe("us-east", false, 0)}},
		"london": {},
	}
	want := map[string]map[string]time.Duration{"tokyo": {"ap": 2300 * time.Microsecond}}
	if d := cmp.Diff(want, rttMatrix(reports)); d != "" {
		t.Errorf("rtt (-want +got):\n%s", d)
	}
}

func TestRoundRTTKeepsTwoDigits(t *testing.T) {
	for _, c := range []struct{ in, want time.Duration }{
		{87 * time.Microsecond, 87 * time.Microsecond},
		{2345 * time.Microsecond, 2300 * time.Microsecond},
		{73450 * time.Microsecond, 73 * time.Millisecond},
		{148600 * time.Microsecond, 150 * time.Millisecond},
	} {
		if got := roundRTT(c.in); got != c.want {
			t.Errorf("roundRTT(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestOriginVerdictAtExactlyTheQuorum: an origin down at exactly the
// quorum's share of the reporting PoPs is not down at more than it,
// whatever the share's binary rounding: 0.7 × 90 is 62.99999999999999 in
// floating point, so 63 of 90 PoPs (70%) were counted as more than 70%
// and took the origin out.
func TestOriginVerdictAtExactlyTheQuorum(t *testing.T) {
	for _, c := range []struct {
		quorum      float64
		pops, down  int
		wantHealthy bool
	}{
		{0.7, 90, 63, true},
		{0.7, 90, 64, false},
		{0.58, 50, 29, true},
		{0.58, 50, 30, false},
		{0.29, 100, 29, true},
		{0.29, 100, 30, false},
		{0.5, 2, 1, true},
	} {
		reports := map[string]*v1.PopStatus{}
		for i := range c.pops {
			reports[fmt.Sprintf("pop-%03d", i)] = &v1.PopStatus{OriginProbes: []*v1.OriginProbeResult{probe("o", i >= c.down, time.Millisecond)}}
		}
		if v := originVerdicts(reports, c.quorum)["o"]; v.Healthy != c.wantHealthy {
			t.Errorf("quorum %v, down at %d of %d PoPs: healthy %v, want %v (%s)", c.quorum, c.down, c.pops, v.Healthy, c.wantHealthy, v.Reason)
		}
	}
}
