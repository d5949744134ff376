package cli_test

import (
	"context"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/cli"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestE2EDrainPeriodOutOfRange runs drain with periods that make no sense:
// each is refused before anything is sent, with the rule, and the PoP
// stays in service.
func TestE2EDrainPeriodOutOfRange(t *testing.T) {
	c := startWithExamples(t)
	for _, tc := range []struct{ period, want string }{
		{"-5s", `anyctl: --period "-5s": must be between 1s and 1h0m0s (leave it out for the controller's --drain-period)`},
		{"0s", `anyctl: --period "0s": must be between 1s and 1h0m0s (leave it out for the controller's --drain-period)`},
		{"1ns", `anyctl: --period "1ns": must be between 1s and 1h0m0s (leave it out for the controller's --drain-period)`},
		{"2h", `anyctl: --period "2h0m0s": must be between 1s and 1h0m0s (leave it out for the controller's --drain-period)`},
	} {
		t.Run(tc.period, func(t *testing.T) {
			r := anyctl(t, c.Addr, "", "drain", "pop", "london", "--force", "--period", tc.period)
			t.Logf("exit %d: %s", r.code, r.stderr)
			if r.code != cli.ExitUsage {
				t.Errorf("exit code %d, want %d", r.code, cli.ExitUsage)
			}
			if got := strings.TrimSpace(r.stderr); !strings.HasPrefix(got, tc.want) {
				t.Errorf("stderr:\n%s\nwant it to start:\n%s", got, tc.want)
			}
			ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
			defer cancel()
			st, err := c.Admin.Status(ctx, &v1.StatusRequest{Pop: "london"})
			if err != nil {
				t.Fatal(err)
			}
			if d := st.GetPops()[0].GetDrain(); d.GetStep() != v1.DrainStep_DRAIN_STEP_NONE || d.GetDraining() {
				t.Errorf("london at step %v (draining %v), want in service", d.GetStep(), d.GetDraining())
			}
		})
	}
}
