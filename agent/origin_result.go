package agent

import (
	"time"

	"github.com/anyctl/anyctl/agent/health"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

// checkerView is one origin checker's state, as result reads it.
type checkerView struct {
	status health.Status
	// fall is the check's fall: this many failures in a row confirm one.
	fall int
	// down is set while the decision is down after having been up, or
	// when the check cannot run.
	down bool
}

// verdict is what one checker says of its address.
type verdict int

const (
	undecided verdict = iota // not probed yet, rising, or failing fewer than fall times
	reachable
	unreachable
)

// judge reads a checker's verdict: reachable while its damped decision is
// up; unreachable once it has confirmed a failure (fall failures in a row,
// or a withdrawal after being up that has not risen again); undecided
// otherwise, so that probes restarted by an edit do not call the origin
// down before they know.
func judge(v checkerView) verdict {
	st := v.status
	switch {
	case st.Healthy:
		return reachable
	case v.down, st.Observed && !st.LastOK && st.Streak >= max(v.fall, 1):
		return unreachable
	}
	return undecided
}

// originResult is the origin's health from here: up when any address is
// reachable, with the fastest of their last probes as the RTT; down only
// when every address is confirmed unreachable; nil, left out of the report
// as unknown, while any is undecided and none reachable.
func originResult(origin string, views []checkerView) *v1.OriginProbeResult {
	r := &v1.OriginProbeResult{Origin: origin}
	var best time.Duration
	unknown := false
	for _, v := range views {
		switch judge(v) {
		case reachable:
			if !r.Healthy || v.status.LastDuration < best {
				best = v.status.LastDuration
			}
			r.Healthy = true
		case undecided:
			unknown = true
		case unreachable:
			if r.LastResult == "" {
				r.LastResult = v.status.LastResult
			}
		}
	}
	switch {
	case r.Healthy:
		r.Rtt = durationpb.New(best)
		r.LastResult = "ok"
	case unknown:
		return nil
	}
	return r
}
