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
	var pops bool
	var pageSize int32
	cmd := &cobra.Command{
		Use:   "status [POP]",
		Short: "Show the fleet: PoPs per drain step, problems, services; every PoP with --pops",
		Long: `Status summarises the fleet: PoPs per drain step, how many report,
BGP sessions and prefixes, the PoPs with a problem (no report, a session
down, a prefix withdrawn outside a drain), each service's announcing PoPs
against its minimum, and any etcd alarm (a full database: every write
fails).

--pops prints one line per PoP, fetched a page at a time: its drain step,
BGP sessions established, prefixes announced, each anycast service's state
there (one column per service up to 8 services, else a count), the config
revision its agent runs and when its report last changed. An agent's
unchanged reports are not stored, so the age is that of the last change;
a PoP whose agent has not reported within the status TTL shows
"no report". Notes under the table name a second agent refused for a PoP
that already had a live one (from where, when, which controller refused
it) and an agent that refused its damaged persisted config at start; the
summary counts them among the problems. With POP, that PoP's line, its
notes and the services. The DNS servers streaming the GSLB feed from the
replica that answered are counted, and one that refused its persisted
snapshot at start is named, with why; for each signed zone, the DNSKEY
set they answer is shown, and when they disagree each server is named
with its key tags. A replica that cannot reach a
majority of etcd says first that it is degraded, and why.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return callAdmin(cmd.Context(), g, func(ctx context.Context, c *adminClient) error {
				if len(args) == 1 {
					resp, err := c.Status(ctx, &v1.StatusRequest{Pop: args[0]})
					if err != nil {
						return err
					}
					writeAlarms(g.stdout, resp.GetStoreAlarms())
					return writeStatus(g.stdout, resp)
				}
				if !pops {
					resp, err := c.Status(ctx, &v1.StatusRequest{})
					if err != nil {
						return err
					}
					return writeSummary(g.stdout, resp)
				}
				return writeEveryPop(ctx, g.stdout, c, pageSize)
			})
		},
	}
	cmd.Flags().BoolVar(&pops, "pops", false, "print every PoP, one line each, fetched a page at a time")
	cmd.Flags().Int32Var(&pageSize, "page-size", 0, "PoPs per page with --pops (0: the controller's default, 500)")
	return cmd
}

// writeEveryPop fetches every page of PoPs and prints the table; the
// first page carries the services and the alarms.
func writeEveryPop(ctx context.Context, w io.Writer, c *adminClient, pageSize int32) error {
	req := &v1.StatusRequest{Pops: true, PageSize: pageSize}
	resp, err := c.Status(ctx, req)
	if err != nil {
		return err
	}
	writeDegraded(w, resp)
	writeAlarms(w, resp.GetStoreAlarms())
	first := resp
	services := serviceNames(first)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	writePopHeader(tw, services)
	var noted []*v1.PopStatusEntry
	for {
		for _, e := range resp.GetPops() {
			writePopRow(tw, services, e)
			if e.GetRefusedAgent() != nil || e.GetStatus().GetPersistedConfigRefused() != "" {
				noted = append(noted, e)
			}
		}
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
		if resp, err = c.Status(ctx, req); err != nil {
			return err
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	writeStatusNotes(w, noted, time.Now())
	writeDNSServers(w, first)
	return writeBudgets(w, first.GetServices())
}

// writeSummary prints the fleet's counts, the PoPs with a problem and the
// service budgets.
func writeSummary(w io.Writer, resp *v1.StatusResponse) error {
	writeDegraded(w, resp)
	writeAlarms(w, resp.GetStoreAlarms())
	sum := resp.GetSummary()
	var steps []string
	for _, s := range sum.GetSteps() {
		steps = append(steps, fmt.Sprintf("%s %d", stepName(s.GetStep()), s.GetPops()))
	}
	fmt.Fprintf(w, "PoPs:          %d (%s), %d reporting\n", sum.GetPops(), joinOr(steps, "none"), sum.GetReporting())
	fmt.Fprintf(w, "BGP sessions:  %d/%d established\n", sum.GetSessionsEstablished(), sum.GetSessions())
	fmt.Fprintf(w, "Prefixes:      %d/%d announced\n", sum.GetPrefixesAnnounced(), sum.GetPrefixes())
	fmt.Fprintf(w, "Config:        revision r%d\n", resp.GetRevision())
	if n := sum.GetProblemsTotal(); n == 0 {
		fmt.Fprintf(w, "Problems:      none\n")
	} else {
		more := ""
		if int(n) > len(sum.GetProblems()) {
			more = fmt.Sprintf(", the first %d by name", len(sum.GetProblems()))
		}
		fmt.Fprintf(w, "Problems:      %d PoP(s)%s (details: anyctl status POP, anyctl status --pops)\n", n, more)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, p := range sum.GetProblems() {
			fmt.Fprintf(tw, "  %s\t%s\n", p.GetPop(), p.GetProblem())
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	writeDNSServers(w, resp)
	return writeBudgets(w, resp.GetServices())
}

// writeAlarms prints etcd's alarms first, so that a full store is never
// missed.
func writeAlarms(w io.Writer, alarms []string) {
	for _, a := range alarms {
		fmt.Fprintf(w, "STORE ALARM: %s\n", a)
	}
	if len(alarms) > 0 {
		fmt.Fprintln(w)
	}
}

// writeStatus renders the table of the PoPs in resp and the service
// budgets.
func writeStatus(w io.Writer, resp *v1.StatusResponse) error {
	services := serviceNames(resp)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	writePopHeader(tw, services)
	for _, e := range resp.GetPops() {
		writePopRow(tw, services, e)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	writeStatusNotes(w, resp.GetPops(), time.Now())
	return writeBudgets(w, resp.GetServices())
}

// maxServiceColumns is the most services given a column each in the PoP
// table; beyond, one column counts them.
const maxServiceColumns = 8

// serviceNames are the services given a column in the PoP table.
func serviceNames(resp *v1.StatusResponse) []string {
	if len(resp.GetServices()) > maxServiceColumns {
		return nil
	}
	var services []string
	for _, b := range resp.GetServices() {
		services = append(services, b.GetService())
	}
	return services
}

func writePopHeader(tw io.Writer, services []string) {
	fmt.Fprintf(tw, "POP\tSTEP\tIN-STEP\tSESSIONS\tANNOUNCED")
	for _, s := range services {
		fmt.Fprintf(tw, "\t%s", strings.ToUpper(s))
	}
	if services == nil {
		fmt.Fprintf(tw, "\tSERVICES")
	}
	fmt.Fprintf(tw, "\tCONFIG\tLAST-CHANGE\n")
}

func writePopRow(tw io.Writer, services []string, e *v1.PopStatusEntry) {
	st := e.GetStatus()
	inStep := "-"
	if e.GetDrain().GetSince() != nil {
		inStep = roundAge(time.Since(e.GetDrain().GetSince().AsTime())).String()
	}
	fmt.Fprintf(tw, "%s\t%s\t%s", e.GetPop(), stepLabel(e.GetDrain()), inStep)
	cols := len(services)
	if services == nil {
		cols = 1
	}
	if st == nil {
		fmt.Fprintf(tw, "\t-\t-")
		for range cols {
			fmt.Fprintf(tw, "\t-")
		}
		fmt.Fprintf(tw, "\t-\tno report\n")
		return
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
	if services == nil {
		fmt.Fprintf(tw, "\t%s", servicesAnnounced(st))
	}
	fmt.Fprintf(tw, "\tr%d\t%s ago\n", st.GetConfigRevision(), roundAge(e.GetReportAge().AsDuration()))
}

// servicesAnnounced counts the services a PoP announces every prefix of,
// of those it has prefixes for.
func servicesAnnounced(st *v1.PopStatus) string {
	all := map[string]bool{}
	for _, p := range st.GetPrefixes() {
		if _, ok := all[p.GetService()]; !ok {
			all[p.GetService()] = true
		}
		if !p.GetAnnounced() {
			all[p.GetService()] = false
		}
	}
	n := 0
	for _, ok := range all {
		if ok {
			n++
		}
	}
	return fmt.Sprintf("%d/%d", n, len(all))
}

// writeBudgets prints each service's announcing PoPs against its minimum.
func writeBudgets(w io.Writer, budgets []*v1.ServiceBudget) error {
	if len(budgets) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "SERVICE\tANNOUNCING\tMIN\tHELD\n")
	for _, b := range budgets {
		announcing := fmt.Sprint(b.GetAnnouncingPops())
		if len(b.GetAnnouncing()) > 0 || b.GetAnnouncingPops() == 0 {
			announcing += " (" + joinOr(b.GetAnnouncing(), "none") + ")"
		}
		if b.GetAnnouncingPops() < b.GetMinAnnouncingPops() {
			announcing += " BELOW MIN"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", b.GetService(), announcing, b.GetMinAnnouncingPops(), joinOr(b.GetHeld(), "-"))
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

// writeDegraded warns first when the replica that answered is degraded:
// it cannot reach a majority of etcd, so its state may be stale and it
// refuses writes; or when etcd answers it slowly or not at all.
func writeDegraded(w io.Writer, resp *v1.StatusResponse) {
	if d := resp.GetController().GetDegraded(); d != "" {
		fmt.Fprintf(w, "CONTROLLER DEGRADED: %s\n\n", d)
	}
	writeEtcdAnswers(w, resp.GetController())
}

// writeDNSServers counts the DNS servers streaming the GSLB feed from the
// replica that answered, names each that refused its persisted snapshot
// at start, each that rejects the snapshot it was sent and each whose
// feed has gone unconfirmed (stale), and
// compares the DNSKEY RRsets they answer.
func writeDNSServers(w io.Writer, resp *v1.StatusResponse) {
	servers := resp.GetDnsServers()
	fmt.Fprintf(w, "DNS servers:   %d streaming the GSLB feed from this replica\n", len(servers))
	for _, d := range servers {
		if r := d.GetPersistedSnapshotRefused(); r != "" {
			fmt.Fprintf(w, "  %s (%s) refused its persisted snapshot at start: %s\n", d.GetName(), d.GetAddress(), r)
		}
		if r := d.GetSnapshotRejected(); r != "" {
			fmt.Fprintf(w, "  %s (%s) REJECTED the GSLB snapshot, answering from an older one: %s\n", d.GetName(), d.GetAddress(), r)
		}
		if u := d.GetUnconfirmed(); u != "" {
			fmt.Fprintf(w, "  %s (%s) feed STALE: %s\n", d.GetName(), d.GetAddress(), u)
		}
	}
	writeDNSKEYSets(w, servers)
}
