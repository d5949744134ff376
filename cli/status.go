package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/spf13/cobra"
)

func init() { register(newStatusCommand) }

func newStatusCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status [POP]",
		Short: "Show the fleet: each PoP's drain step, sessions, services and last report",
		Long: `Status prints one line per PoP: its drain step, BGP sessions established,
prefixes announced, each anycast service's state there, the config revision
its agent runs and the age of its last report; then each service's
announcing PoPs against its minimum. A PoP whose agent has not reported
within the status TTL shows "no report". Notes under the table name a
second agent refused for a PoP that already had a live one (from where,
when, which controller refused it) and an agent that refused its damaged
persisted config at start. A replica that cannot reach a majority of etcd
says first that it is degraded, and why.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &v1.StatusRequest{}
			if len(args) == 1 {
				req.Pop = args[0]
			}
			return callAdmin(cmd.Context(), g, func(ctx context.Context, c *adminClient) error {
				resp, err := c.Status(ctx, req)
				if err != nil {
					return err
				}
				return writeStatus(g.stdout, resp)
			})
		},
	}
}

// writeStatus renders the fleet table and the service budgets, after a
// warning when the replica that answered is degraded.
func writeStatus(w io.Writer, resp *v1.StatusResponse) error {
	if d := resp.GetController().GetDegraded(); d != "" {
		fmt.Fprintf(w, "CONTROLLER DEGRADED: %s\n\n", d)
	}
	var services []string
	for _, b := range resp.GetServices() {
		services = append(services, b.GetService())
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "POP\tSTEP\tIN-STEP\tSESSIONS\tANNOUNCED")
	for _, s := range services {
		fmt.Fprintf(tw, "\t%s", strings.ToUpper(s))
	}
	fmt.Fprintf(tw, "\tCONFIG\tLAST-REPORT\n")
	for _, e := range resp.GetPops() {
		st := e.GetStatus()
		inStep := "-"
		if e.GetDrain().GetSince() != nil {
			inStep = roundAge(time.Since(e.GetDrain().GetSince().AsTime())).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s", e.GetPop(), stepLabel(e.GetDrain()), inStep)
		if st == nil {
			fmt.Fprintf(tw, "\t-\t-")
			for range services {
				fmt.Fprintf(tw, "\t-")
			}
			fmt.Fprintf(tw, "\t-\tno report\n")
			continue
		}
		up := 0
		for _, p := range st.GetPeers() {
			if p.GetState() == "established" {
				up++
			}
		}
		announced := 0
		for _, p := range st.GetPrefixes() {
			if p.GetAnnounced() {
				announced++
			}
		}
		fmt.Fprintf(tw, "\t%d/%d\t%d/%d", up, len(st.GetPeers()), announced, len(st.GetPrefixes()))
		for _, s := range services {
			fmt.Fprintf(tw, "\t%s", serviceState(st, s))
		}
		fmt.Fprintf(tw, "\tr%d\t%s ago\n", st.GetConfigRevision(), roundAge(e.GetReportAge().AsDuration()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	writeStatusNotes(w, resp.GetPops(), time.Now())
	if len(resp.GetServices()) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "SERVICE\tANNOUNCING\tMIN\tHELD\n")
	for _, b := range resp.GetServices() {
		fmt.Fprintf(tw, "%s\t%d (%s)\t%d\t%s\n", b.GetService(), len(b.GetAnnouncing()), joinOr(b.GetAnnouncing(), "none"),
			b.GetMinAnnouncingPops(), joinOr(b.GetHeld(), "-"))
	}
	return tw.Flush()
}

// serviceState summarises one service at one PoP from its prefixes.
func serviceState(st *v1.PopStatus, service string) string {
	total, announced := 0, 0
	reason := ""
	for _, p := range st.GetPrefixes() {
		if p.GetService() != service {
			continue
		}
		total++
		if p.GetAnnounced() {
			announced++
		} else if reason == "" {
			reason = p.GetReason()
		}
	}
	switch {
	case total == 0:
		return "-"
	case announced == total:
		for _, p := range st.GetPrefixes() {
			if p.GetService() == service && p.GetMode() == v1.AnnounceMode_ANNOUNCE_MODE_DRAINING {
				return "draining"
			}
		}
		return "announced"
	case announced == 0:
		return "withdrawn (" + shortReason(reason) + ")"
	}
	return fmt.Sprintf("partial %d/%d", announced, total)
}

func shortReason(r string) string {
	switch {
	case strings.HasPrefix(r, "health check down"):
		return "unhealthy"
	case strings.HasPrefix(r, "health check not yet run"):
		return "checking"
	case strings.HasPrefix(r, "refused"):
		return "refused"
	case strings.HasPrefix(r, "withdrawn by the controller"):
		return "drained"
	case strings.HasPrefix(r, "controller unreachable"):
		return "no controller"
	}
	return r
}

// stepName names a drain step as status shows it.
func stepName(s v1.DrainStep) string {
	switch s {
	case v1.DrainStep_DRAIN_STEP_GSLB:
		return "gslb-out"
	case v1.DrainStep_DRAIN_STEP_GRACEFUL_SHUTDOWN:
		return "gshut"
	case v1.DrainStep_DRAIN_STEP_WITHDRAWN:
		return "drained"
	}
	return "serving"
}

// stepLabel adds the direction of a drain in progress: "draining:gshut",
// "undraining:gslb-out"; a finished drain is "drained".
func stepLabel(d *v1.DrainState) string {
	name := stepName(d.GetStep())
	switch {
	case name == "serving" || name == "drained" && d.GetDraining():
		return name
	case d.GetDraining():
		return "draining:" + name
	}
	return "undraining:" + name
}

func roundAge(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}
