package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/anyctl/anyctl/controller"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"
)

func init() {
	register(newDrainCommand)
	register(newUndrainCommand)
}

// popArg checks that a drain command names a PoP: "pop NAME".
func popArg(args []string) (string, error) {
	k, err := resource.ParseKind(args[0])
	if err != nil || k != v1.Kind_KIND_POP {
		return "", UsageErrorf("only PoPs can be drained: want \"pop NAME\", got %q", args[0])
	}
	return args[1], nil
}

func newDrainCommand(g *globals) *cobra.Command {
	var (
		force  bool
		period time.Duration
	)
	cmd := &cobra.Command{
		Use:   "drain pop NAME",
		Short: "Take a PoP out of service gracefully",
		Long: `Drain takes a PoP out of service in steps the controller runs: (1) the PoP
leaves GSLB answers (its unicast addresses, and as a latency source) and the
controller waits out the records' TTL; (2) its announcements carry
GRACEFUL_SHUTDOWN (RFC 8326) and extra prepends, so routers move traffic
away; (3) after the drain period they are withdrawn. A drain that would
leave a service with fewer announcing PoPs than its minimum is refused
unless --force. "anyctl status" shows each PoP's step.`,
		Example: `  anyctl drain pop london
  anyctl drain pop london --period 2m --force`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			pop, err := popArg(args)
			if err != nil {
				return err
			}
			req, err := drainRequest(pop, force, period, cmd.Flags().Changed("period"))
			if err != nil {
				return err
			}
			return callAdminWrite(cmd.Context(), g, func(ctx context.Context, c *adminClient) error {
				resp, err := c.Drain(ctx, req)
				if err == nil {
					printDrainState(g, pop, "draining", resp.GetState())
				}
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "drain even when a service would fall below its minimum of announcing PoPs")
	cmd.Flags().DurationVar(&period, "period", 0, "how long announcements carry GRACEFUL_SHUTDOWN before the withdrawal, 1s to 1h (default: the controller's --drain-period)")
	return cmd
}

// drainRequest is the request drain sends. A period given is checked
// here, so that a mistyped one is not sent; one not given leaves the
// controller's --drain-period.
func drainRequest(pop string, force bool, period time.Duration, periodGiven bool) (*v1.DrainRequest, error) {
	req := &v1.DrainRequest{Pop: pop, Force: force}
	if !periodGiven {
		return req, nil
	}
	if err := controller.CheckDrainPeriod(period); err != nil {
		return nil, UsageErrorf("--period %q: %v (leave it out for the controller's --drain-period)", period, err)
	}
	req.DrainPeriod = durationpb.New(period)
	return req, nil
}

func newUndrainCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "undrain pop NAME",
		Short: "Bring a drained PoP back into service, reversing the drain steps",
		Long: `Undrain reverses a drain: the PoP announces again, first with
GRACEFUL_SHUTDOWN (least preferred), then normally, and last it rejoins
GSLB answers.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			pop, err := popArg(args)
			if err != nil {
				return err
			}
			return callAdminWrite(cmd.Context(), g, func(ctx context.Context, c *adminClient) error {
				resp, err := c.Undrain(ctx, &v1.UndrainRequest{Pop: pop})
				if err == nil {
					printDrainState(g, pop, "undraining", resp.GetState())
				}
				return err
			})
		},
	}
}

// printDrainState says where a drain or undrain stands.
func printDrainState(g *globals, pop, what string, st *v1.DrainState) {
	fmt.Fprintf(g.stdout, "pop/%s %s: step %s since %s\n", pop, what, stepLabel(st), st.GetSince().AsTime().Format(time.RFC3339))
}
