package controller_test

import (
	"context"
	"strings"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestDrainRefusesPeriodsThatMakeNoSense asks for drain periods outside
// 1s..1h: each is refused with InvalidArgument and the rule, and the PoP
// stays in service.
func TestDrainRefusesPeriodsThatMakeNoSense(t *testing.T) {
	r := startFleet(t)
	ctx := context.Background()
	for _, tc := range []struct {
		period *durationpb.Duration
		want   string
	}{
		{durationpb.New(-5 * time.Second), `drain of Pop "london": drain_period "-5s": must be between 1s and 1h0m0s`},
		{durationpb.New(time.Nanosecond), `drain of Pop "london": drain_period "1ns": must be between 1s and 1h0m0s`},
		{durationpb.New(999 * time.Millisecond), `drain of Pop "london": drain_period "999ms": must be between 1s and 1h0m0s`},
		{durationpb.New(2 * time.Hour), `drain of Pop "london": drain_period "2h0m0s": must be between 1s and 1h0m0s`},
		{&durationpb.Duration{Seconds: 1, Nanos: -1}, `drain of Pop "london": drain_period: invalid duration`},
	} {
		t.Run(tc.period.String(), func(t *testing.T) {
			_, err := r.Admin.Drain(ctx, &v1.DrainRequest{Pop: "london", Force: true, DrainPeriod: tc.period})
			st := status.Convert(err)
			t.Logf("%v: %s", st.Code(), st.Message())
			if st.Code() != codes.InvalidArgument || !strings.HasPrefix(st.Message(), tc.want) {
				t.Errorf("drain answered %v %q, want InvalidArgument %q", st.Code(), st.Message(), tc.want)
			}
			if s := popStep(t, r, "london"); s.GetStep() != v1.DrainStep_DRAIN_STEP_NONE || s.GetDraining() {
				t.Errorf("london is at step %v (draining %v) after the refused drain, want in service", s.GetStep(), s.GetDraining())
			}
		})
	}
	for _, p := range []*durationpb.Duration{nil, durationpb.New(0)} {
		t.Run("default "+p.String(), func(t *testing.T) {
			if _, err := r.Admin.Drain(ctx, &v1.DrainRequest{Pop: "london", Force: true, DrainPeriod: p}); err != nil {
				t.Fatalf("drain with drain_period %v (the controller's default): %v", p, err)
			}
			if _, err := r.Admin.Undrain(ctx, &v1.UndrainRequest{Pop: "london"}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
