package agent

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/anyctl/anyctl/agent/health"
	"github.com/anyctl/anyctl/agent/speaker/speakertest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestOriginResult(t *testing.T) {
	ms := time.Millisecond
	// Checker states, each with a fall of 3.
	var (
		fresh  = checkerView{fall: 3}
		rising = checkerView{fall: 3, status: health.Status{Observed: true, LastOK: true, Streak: 1, LastResult: "ok", LastDuration: ms}}
		up     = func(d time.Duration) checkerView {
			return checkerView{fall: 3, status: health.Status{Healthy: true, Observed: true, LastOK: true, Streak: 9, LastResult: "ok", LastDuration: d}}
		}
		failing = checkerView{fall: 3, status: health.Status{Observed: true, Streak: 2, LastResult: "connection refused"}}
		failed  = checkerView{fall: 3, status: health.Status{Observed: true, Streak: 3, LastResult: "connection refused"}}
		// withdrawn went down after being up and has one success of its rise.
		withdrawn = checkerView{fall: 3, down: true, status: health.Status{Observed: true, LastOK: true, Streak: 1, LastResult: "ok"}}
		// upFailing is up with failures short of its fall.
		upFailing = checkerView{fall: 3, status: health.Status{Healthy: true, Observed: true, Streak: 2, LastResult: "timeout", LastDuration: 50 * ms}}
		cannotRun = checkerView{fall: 3, down: true, status: health.Status{LastResult: "invalid check: bad"}}
	)
	down := func(last string) *v1.OriginProbeResult {
		return &v1.OriginProbeResult{Origin: "fra", LastResult: last}
	}
	healthy := func(rtt time.Duration) *v1.OriginProbeResult {
		return &v1.OriginProbeResult{Origin: "fra", Healthy: true, Rtt: durationpb.New(rtt), LastResult: "ok"}
	}
	tests := []struct {
		name  string
		views []checkerView
		want  *v1.OriginProbeResult // nil: left out, unknown
	}{
		{"not probed yet: unknown", []checkerView{fresh}, nil},
		{"rising: unknown", []checkerView{rising}, nil},
		{"failing fewer than fall times: unknown", []checkerView{failing}, nil},
		{"fall failures: down", []checkerView{failed}, down("connection refused")},
		{"down after being up, rising again: down", []checkerView{withdrawn}, down("ok")},
		{"a check that cannot run: down", []checkerView{cannotRun}, down("invalid check: bad")},
		{"up", []checkerView{up(3 * ms)}, healthy(3 * ms)},
		{"up with failures short of fall: up", []checkerView{upFailing}, healthy(50 * ms)},
		{"one address up, one undecided: up", []checkerView{fresh, up(2 * ms)}, healthy(2 * ms)},
		{"one address up, one down: up, the RTT from the up one", []checkerView{failed, up(4 * ms)}, healthy(4 * ms)},
		{"two addresses up: the faster RTT", []checkerView{up(7 * ms), up(2 * ms), up(5 * ms)}, healthy(2 * ms)},
		{"one down, one undecided: unknown", []checkerView{failed, rising}, nil},
		{"every address down: down, with the first one's result", []checkerView{failed, cannotRun}, down("connection refused")},
		{"no usable checker: down", nil, down("")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := originResult("fra", tt.views)
			if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOriginProbeUnknownUntilFall runs a real checker against a closed
// port, with a fall of 3 and an hour between probes: after its first
// failure the origin is unknown from here, not down.
func TestOriginProbeUnknownUntilFall(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := lis.Addr().String()
	lis.Close()
	spec, err := health.FromProto(&v1.HealthCheck{
		Protocol: v1.CheckProtocol_CHECK_PROTOCOL_TCP, Target: closed,
		Interval: durationpb.New(time.Hour), Timeout: durationpb.New(time.Second), Rise: 2, Fall: 3,
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	oc := &originChecker{fall: spec.Fall, checker: health.NewChecker("fra", spec, health.DampConfig{}, nil, nil)}
	o := &originProbe{origin: &origin{name: "fra"}, checkers: []*originChecker{oc}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = oc.checker.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	speakertest.Await(t, "the first probe", func() bool { return oc.checker.Status().Probes == 1 },
		func() string { return fmt.Sprint(oc.checker.Status()) })
	if r := o.result(); r != nil {
		t.Errorf("after one failure of a fall of 3, result = %v, want none (unknown)", r)
	}
}
