package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// writePopStatus prints one PoP's status in detail, after its description.
func writePopStatus(w io.Writer, resp *v1.StatusResponse) error {
	if len(resp.GetPops()) == 0 {
		return nil
	}
	e := resp.GetPops()[0]
	fmt.Fprintf(w, "\nStatus:\n  Drain step:     %s\n", stepLabel(e.GetDrain()))
	if r := e.GetRefusedAgent(); r != nil {
		fmt.Fprintf(w, "  Refused agent:  %s\n", refusedAgentNote(r, time.Now()))
	}
	if why := e.GetStatus().GetPersistedConfigRefused(); why != "" {
		fmt.Fprintf(w, "  Persisted:      %s\n", persistedRefusedNote(why))
	}
	st := e.GetStatus()
	if st == nil {
		fmt.Fprintf(w, "  Agent:          no report (never connected, or silent for longer than the status TTL)\n")
		return nil
	}
	fmt.Fprintf(w, "  Agent:          version %s, config revision r%d, last report %s ago\n",
		st.GetAgentVersion(), st.GetConfigRevision(), roundAge(e.GetReportAge().AsDuration()))

	fmt.Fprintf(w, "\n  BGP sessions:\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "    PEER\tASN\tSTATE\tUP-SINCE\tSENT\tRECEIVED\n")
	for _, p := range st.GetPeers() {
		since := "-"
		if p.GetUpSince() != nil {
			since = p.GetUpSince().AsTime().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(tw, "    %s\t%d\t%s\t%s\t%d\t%d\n", p.GetAddress(), p.GetPeerAsn(), p.GetState(), since, p.GetPrefixesSent(), p.GetPrefixesReceived())
	}
	tw.Flush()
	writeSessionProblems(w, st, e.GetStatus().GetReportedAt().AsTime())

	fmt.Fprintf(w, "\n  Prefixes:\n")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "    PREFIX\tSERVICE\tANNOUNCED\tMODE\tATTRIBUTES\tWHY\n")
	for _, p := range st.GetPrefixes() {
		fmt.Fprintf(tw, "    %s\t%s\t%v\t%s\t%s\t%s\n", p.GetPrefix(), p.GetService(), p.GetAnnounced(),
			strings.ToLower(strings.TrimPrefix(p.GetMode().String(), "ANNOUNCE_MODE_")), prefixAttrs(p), p.GetReason())
	}
	tw.Flush()

	fmt.Fprintf(w, "\n  Health checks:\n")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "    SERVICE\tHEALTHY\tLAST\tTOOK\tSTREAK\tFLAPS\tHOLD-DOWN-LEFT\n")
	for _, c := range st.GetChecks() {
		fmt.Fprintf(tw, "    %s\t%v\t%s\t%s\t%d\t%d\t%s\n", c.GetService(), c.GetHealthy(), c.GetLastResult(),
			c.GetLastDuration().AsDuration(), c.GetStreak(), c.GetFlaps(), c.GetHoldDownLeft().AsDuration())
	}
	return tw.Flush()
}

func prefixAttrs(p *v1.PrefixStatus) string {
	var parts []string
	if len(p.GetCommunities()) > 0 {
		parts = append(parts, "comm="+strings.Join(p.GetCommunities(), ","))
	}
	if len(p.GetLargeCommunities()) > 0 {
		parts = append(parts, "large="+strings.Join(p.GetLargeCommunities(), ","))
	}
	if p.Med != nil {
		parts = append(parts, fmt.Sprintf("med=%d", p.GetMed()))
	}
	if p.GetAsPathPrepend() > 0 {
		parts = append(parts, fmt.Sprintf("prepend=%d", p.GetAsPathPrepend()))
	}
	return joinOr(parts, "-")
}

// writeSessionProblems says, under the sessions, why each one that is not
// up is not, and the last problem of the others, with its age at the time
// of the report.
func writeSessionProblems(w io.Writer, st *v1.PopStatus, reported time.Time) {
	for _, p := range st.GetPeers() {
		if p.GetLastProblem() == "" {
			continue
		}
		label := "last problem"
		if p.GetState() != "established" {
			label = "not up"
		}
		age := "-"
		if at := p.GetLastProblemAt(); at != nil {
			age = roundAge(reported.Sub(at.AsTime())).String() + " before the report"
		}
		fmt.Fprintf(w, "    %s %s (%s): %s\n", p.GetAddress(), label, age, p.GetLastProblem())
	}
}
