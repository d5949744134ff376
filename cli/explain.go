package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"net/netip"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/feed"
	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/index"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

func init() { register(newExplainCommand) }

// explainFlags are the flags of `anyctl explain`.
type explainFlags struct {
	dnssecKeys      string
	qtype           string
	client          string
	geoip           string
	defaultLocation string
	dnsStateDir     string
}

// explainQuery is the question explain answers.
type explainQuery struct {
	name   string
	qtype  uint16
	client netip.Prefix
}

func newExplainCommand(g *globals) *cobra.Command {
	var f explainFlags
	cmd := &cobra.Command{
		Use:   "explain NAME --client IP[/LEN]",
		Short: "Explain how the GeoDNS server answers a name for a client, and why",
		Long: `Explain the GSLB answer for NAME to a client: how the client is located, every
candidate with why it was kept or excluded (health, residency, traffic dial,
policy rank), the answer, its TTL and its ECS scope. The answer is computed by
the DNS server's own code from the controller's current GSLB snapshot (or,
with --dns-state-dir, from the snapshot a DNS server persisted).

--client is the EDNS Client Subnet a resolver would send (IP/LEN), or a
client's address (IP). Give the same --geoip and --default-location as the
DNS server, or clients are located differently.`,
		Example: `  anyctl explain origin.gslb.example.com --client 198.51.100.0/24
  anyctl explain origin.gslb.example.com --type AAAA --client 2001:db8:1::/48 --geoip GeoLite2-City.mmdb
  anyctl explain accounts.gslb.example.com --client 203.0.113.7 --dns-state-dir /var/lib/anyctl/dns`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q, err := f.query(args[0])
			if err != nil {
				return err
			}
			loc, err := parseLocation("default-location", f.defaultLocation)
			if err != nil {
				return err
			}
			var db *geo.DB
			if f.geoip != "" {
				if db, err = geo.OpenDB(f.geoip); err != nil {
					return UsageErrorf("--geoip: %w", err)
				}
			}
			snap, from, err := explainSnapshot(cmd.Context(), g, f.dnsStateDir)
			if err != nil {
				return err
			}
			signers, err := explainSigners(f.dnssecKeys)
			if err != nil {
				return err
			}
			ix, err := settledIndex(snap, index.Options{GeoIP: db, Default: loc, Signers: signers})
			if err != nil {
				return fmt.Errorf("GSLB snapshot revision %d from %s: %w", snap.GetRevision(), from, err)
			}
			ex := ix.Explain(q.name, q.qtype, q.client)
			if ex.Zone == "" {
				return UsageErrorf("name %q: in no zone of the GSLB snapshot (%s); give the name in full", q.name, zoneList(snap))
			}
			return printExplanation(g.stdout, ex, snap, from)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.qtype, "type", "A", "query type: A or AAAA (or any other type the zone serves)")
	fs.StringVar(&f.client, "client", "", "the client: its subnet as ECS would carry it (IP/LEN) or its address (IP); required")
	fs.StringVar(&f.geoip, "geoip", "", "the MaxMind database the DNS server uses (mmdb); without it, clients outside PoP cache networks are at --default-location")
	fs.StringVar(&f.defaultLocation, "default-location", "", "LAT,LON[,COUNTRY[,CONTINENT]] as the DNS server has it")
	fs.StringVar(&f.dnssecKeys, "dnssec-keys", "", "sign as a DNS server with this key directory does, and show the answer's RRSIGs and their validity")
	fs.StringVar(&f.dnsStateDir, "dns-state-dir", "", "explain from the snapshot a DNS server persisted in this directory instead of asking the controller")
	return cmd
}

// query checks the name and flags and makes the question; every error is a
// usage error naming the flag and its value.
func (f *explainFlags) query(name string) (explainQuery, error) {
	fqdn := dns.Fqdn(strings.TrimSpace(name))
	if _, ok := dns.IsDomainName(fqdn); !ok || fqdn == "." && name != "." {
		return explainQuery{}, UsageErrorf("name %q: not a domain name", name)
	}
	qtype, ok := dns.StringToType[strings.ToUpper(f.qtype)]
	if !ok {
		return explainQuery{}, UsageErrorf("--type %q: want A or AAAA (or another query type)", f.qtype)
	}
	if f.client == "" {
		return explainQuery{}, UsageErrorf("--client is required: the client's subnet (IP/LEN) or address (IP), e.g. --client 198.51.100.0/24")
	}
	client, err := parseClient(f.client)
	if err != nil {
		return explainQuery{}, err
	}
	return explainQuery{name: fqdn, qtype: qtype, client: client}, nil
}

// parseClient parses IP/LEN (host bits are cleared, as resolvers send
// them) or IP (the whole address).
func parseClient(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, UsageErrorf("--client %q: want an IP address or IP/LEN", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, UsageErrorf("--client %q: want an IP address or IP/LEN", s)
	}
	if p.Bits() == 0 {
		return netip.Prefix{}, UsageErrorf("--client %q: a /0 subnet names no client; give an address or a longer prefix", s)
	}
	return p.Masked(), nil
}

// explainSnapshot gets the snapshot to explain from: the one a DNS server
// persisted in stateDir, or else the controller's current one, the first
// message of its GSLB feed. from says which, for the output.
func explainSnapshot(ctx context.Context, g *globals, stateDir string) (*v1.GslbSnapshot, string, error) {
	if stateDir != "" {
		snap, err := dnsgslb.LoadSnapshot(stateDir)
		if err != nil {
			return nil, "", fmt.Errorf("--dns-state-dir %q: %w", stateDir, err)
		}
		if snap == nil {
			return nil, "", fmt.Errorf("--dns-state-dir %q: no persisted GSLB snapshot there; is it the DNS server's --state-dir?", stateDir)
		}
		return snap, "the DNS server's state in " + stateDir, nil
	}
	var snap *v1.GslbSnapshot
	var from string
	err := callAdmin(ctx, g, func(ctx context.Context, c *adminClient) error {
		stream, err := v1.NewGslbFeedServiceClient(c.conn).Subscribe(ctx, &v1.SubscribeRequest{ServerName: "anyctl explain"},
			grpc.MaxCallRecvMsgSize(feed.MaxSnapshotBytes))
		if err != nil {
			return err
		}
		msg, err := stream.Recv()
		if err != nil {
			return err
		}
		snap, from = msg.GetSnapshot(), "the controller at "+c.server.addr
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return snap, from, nil
}

// settledIndex compiles snap as the DNS server ends up serving it: a build
// may leave ECS scope tables for later (index.Index.Unfinished), which the
// server adds by building again, and explain must report those scopes.
func settledIndex(snap *v1.GslbSnapshot, opts index.Options) (*index.Index, error) {
	ix, err := index.Compile(snap, opts)
	for err == nil && ix.Unfinished() {
		opts.Previous = ix
		ix, err = index.Compile(snap, opts)
	}
	return ix, err
}

// zoneList names the snapshot's zones, for an error.
func zoneList(snap *v1.GslbSnapshot) string {
	var zones []string
	for _, z := range snap.GetZones() {
		zones = append(zones, dns.Fqdn(z.GetSpec().GetZone()))
	}
	if len(zones) == 0 {
		return "it has none"
	}
	return strings.Join(zones, ", ")
}

// printExplanation renders an explanation for people.
func printExplanation(w io.Writer, ex dnsgslb.Explanation, snap *v1.GslbSnapshot, from string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	field := func(k, format string, args ...any) {
		fmt.Fprintf(tw, "%s:\t"+format+"\n", append([]any{k}, args...)...)
	}
	field("Query", "%s %s", ex.Name, ex.Type)
	field("Client", "%s", describeClient(ex.Client))
	field("Snapshot", "revision %d, compiled %s, from %s", snap.GetRevision(), snap.GetCompiledAt().AsTime().UTC().Format(time.RFC3339), from)
	field("Zone", "%s", ex.Zone)
	if ex.Record != "" {
		field("Record", "GslbRecord %q, policy %s", ex.Record, policyName(ex.Policy))
		field("Located", "%s", describeLocated(ex.Located))
	}
	if ex.Bucket >= 0 {
		field("Bucket", "%d (the weighted choice and traffic dials depend on the client subnet)", ex.Bucket)
	}
	field("Rcode", "%s", ex.Rcode)
	for i, rr := range ex.Answer {
		field(label(i, "Answer"), "%s", tabless(rr))
	}
	for i, rr := range ex.Authority {
		field(label(i, "Authority"), "%s", tabless(rr))
	}
	if len(ex.Answer)+len(ex.Authority) > 0 {
		field("TTL", "%ds", ex.TTL)
	}
	field("ECS scope", "%s", describeScope(ex.Client, ex.Scope))
	for i, s := range ex.Signatures {
		field(label(i, "RRSIG"), "%s", s)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(ex.Candidates) > 0 {
		fmt.Fprintln(w, "\nCandidates:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  RANK\tCANDIDATE\tKIND\tHEALTH\tDISTANCE\tRTT\tADDRESSES\tOUTCOME")
		for _, c := range byRank(ex.Candidates) {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%.0f km\t%s\t%s\t%s\n", rank(c), c.Name, c.Kind, health(c), c.DistanceKm,
				rtt(c.RTT), strings.Join(c.Addresses, " "), outcome(c))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(ex.Notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, n := range ex.Notes {
			fmt.Fprintln(w, "  - "+n)
		}
	}
	return nil
}

func describeClient(p netip.Prefix) string {
	if p.Bits() == p.Addr().BitLen() {
		return fmt.Sprintf("%s (its address as an ECS /%d)", p.Addr(), p.Bits())
	}
	return fmt.Sprintf("%s (ECS source prefix /%d)", p, p.Bits())
}

func describeLocated(l index.Located) string {
	var how string
	switch l.Source {
	case "pop":
		how = fmt.Sprintf("at PoP %q (a cache network of the PoP)", l.Pop)
	case "geoip":
		how = "by the GeoIP database"
	case "default":
		how = "at the default location (neither a PoP cache network nor in the GeoIP database)"
	default:
		how = "by " + l.Source
	}
	var place []string
	for _, s := range []string{l.Location.City, l.Location.Country, l.Location.Continent} {
		if s != "" {
			place = append(place, s)
		}
	}
	where := fmt.Sprintf("%.2f, %.2f", l.Location.Latitude, l.Location.Longitude)
	if len(place) > 0 {
		where = strings.Join(place, ", ") + " (" + where + ")"
	}
	return fmt.Sprintf("%s: %s; table leaf %s", how, where, l.Leaf)
}

// describeScope says what the ECS scope means for this client.
func describeScope(client netip.Prefix, scope int) string {
	if scope == 0 {
		return "/0: the answer is the same for every client"
	}
	p, err := client.Addr().Prefix(scope)
	if err != nil {
		return fmt.Sprintf("/%d", scope)
	}
	return fmt.Sprintf("/%d: resolvers may reuse the answer for every client in %s", scope, p)
}

// policyName is a policy's short name, as manifests spell it.
func policyName(p string) string { return strings.ToLower(strings.TrimPrefix(p, "POLICY_")) }

// byRank orders candidates by rank, the unranked after them in listed
// order.
func byRank(cs []index.CandidateExplanation) []index.CandidateExplanation {
	out := slices.Clone(cs)
	last := func(r int) int {
		if r == 0 {
			return math.MaxInt
		}
		return r
	}
	slices.SortStableFunc(out, func(a, b index.CandidateExplanation) int { return cmp.Compare(last(a.Rank), last(b.Rank)) })
	return out
}

func label(i int, s string) string {
	if i == 0 {
		return s
	}
	return ""
}

// tabless turns an RR's tabs into spaces, so it sits in one table cell.
func tabless(rr string) string { return strings.Join(strings.Fields(rr), " ") }

func rank(c index.CandidateExplanation) string {
	if c.Rank == 0 {
		return "-"
	}
	return fmt.Sprint(c.Rank)
}

func health(c index.CandidateExplanation) string {
	if c.Healthy {
		return "healthy"
	}
	return "down"
}

func rtt(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(100 * time.Microsecond).String()
}

// outcome says what selection did with a candidate and why.
func outcome(c index.CandidateExplanation) string {
	var s string
	switch {
	case c.Excluded != "":
		s = "excluded: " + c.Excluded
	case c.Answered:
		s = "answered"
	case c.Rank > 0:
		s = "kept, ranked below the answers"
	default:
		s = "kept, not ranked"
	}
	if c.Rank > 0 && c.RankedBy != "" {
		s += " (by " + c.RankedBy + ")"
	}
	if c.Note != "" {
		s += "; " + c.Note
	}
	return s
}

// explainSigners are the signers of the zones with keys in dir; nil
// without a directory. A zone whose keys are not activated yet is left
// out, answered unsigned as a DNS server does.
func explainSigners(dir string) (map[string]*dnssec.Signer, error) {
	if dir == "" {
		return nil, nil
	}
	keys, err := dnssec.LoadDir(dir)
	if err != nil {
		return nil, UsageErrorf("--dnssec-keys: %w", err)
	}
	out := map[string]*dnssec.Signer{}
	now := time.Now()
	for zone, ks := range keys {
		if dnssec.Waiting(ks, now) {
			continue
		}
		s, err := dnssec.NewSigner(zone, ks, now)
		if err != nil {
			return nil, UsageErrorf("--dnssec-keys: %w", err)
		}
		out[zone] = s
	}
	return out, nil
}
