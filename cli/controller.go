package cli

import (
	"strings"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/validation"
	"github.com/spf13/cobra"
)

func init() { register(newControllerCommand) }

func newControllerCommand(g *globals) *cobra.Command {
	var (
		cfg      controller.Config
		allowed  []string
		logs     logFlags
		endpoint string
	)
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Run a controller: the Admin, Agent and GSLB feed APIs over etcd",
		Long: `Run a controller replica. It stores the desired state in etcd (embedded by
default, on loopback, in --data-dir; or an external cluster with
--etcd-endpoints), validates every write, compiles per-PoP configs for agents
and the GSLB snapshot for DNS servers, and serves them over gRPC.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := refuseClientTLSFlags(cmd); err != nil {
				return err
			}
			if cfg.OriginDownQuorum == 0 {
				// The library reads 0 as "the default"; given here, it
				// would mean one PoP calls an origin down for all.
				return UsageErrorf("--origin-down-quorum 0: want a share in (0, 1); for one PoP's view to be enough, give a share below 1 / the PoPs reporting (0.01, say)")
			}
			log, err := logs.logger(g.stderr)
			if err != nil {
				return err
			}
			if cfg.AllowedPrefixes, err = parsePrefixes("allowed-prefixes", allowed); err != nil {
				return err
			}
			if endpoint != "" {
				cfg.EtcdEndpoints = strings.Split(endpoint, ",")
			}
			cfg.Logger = log
			// This process is the controller's alone.
			cfg.OneProcAtRest = true
			c, err := controller.New(cfg)
			if err != nil {
				return UsageErrorf("%v", err)
			}
			return c.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Listen, "listen", DefaultServer, "gRPC listen address for the Admin, Agent and GSLB feed APIs")
	f.StringVar(&cfg.MetricsListen, "metrics-listen", DefaultMetricsListen, "Prometheus metrics listen address (empty: off)")
	f.StringVar(&cfg.ConsoleListen, "console-listen", "", "web console listen address (empty: off); plain HTTP on loopback only, with --tls-* it requires client certificates from --tls-client-ca")
	f.StringVar(&cfg.DataDir, "data-dir", "/var/lib/anyctl/controller", "directory of the embedded etcd's data")
	f.StringVar(&endpoint, "etcd-endpoints", "", "comma-separated external etcd endpoints (instead of the embedded etcd)")
	f.StringVar(&cfg.EtcdCA, "etcd-ca", "", "CA certificate file (PEM) for the external etcd")
	f.StringVar(&cfg.EtcdCert, "etcd-cert", "", "client certificate file (PEM) for the external etcd")
	f.StringVar(&cfg.EtcdKey, "etcd-key", "", "client key file (PEM) for the external etcd")
	f.StringVar(&cfg.EtcdUsername, "etcd-username", "", "etcd user, for an external etcd with auth enabled (with --etcd-password-file)")
	f.StringVar(&cfg.EtcdPasswordFile, "etcd-password-file", "", "file holding the password of --etcd-username")
	f.StringVar(&cfg.TLSCert, "tls-cert", "", "the controller's certificate (PEM); with --tls-key and --tls-client-ca, the APIs require mutual TLS")
	f.StringVar(&cfg.TLSKey, "tls-key", "", "the controller's private key (PEM)")
	f.StringVar(&cfg.TLSClientCA, "tls-client-ca", "", "CA certificate (PEM) that signs every client's certificate; a client's role is its certificate's OrganizationalUnit (admin, viewer, agent or dns)")
	f.StringSliceVar(&allowed, "allowed-prefixes", prefixStrings(validation.DefaultAllowedPrefixes()), "address space anycast prefixes must fall inside (default: the documentation ranges, for labs)")
	f.Float64Var(&cfg.OriginDownQuorum, "origin-down-quorum", controller.DefaultOriginDownQuorum, "an origin is down when more than this share of the PoPs reporting on it see it down")
	f.DurationVar(&cfg.DrainPeriod, "drain-period", controller.DefaultDrainPeriod, "how long a drained PoP's announcements carry GRACEFUL_SHUTDOWN before they are withdrawn")
	f.DurationVar(&cfg.FeedConfirmEvery, "feed-confirm-every", controller.DefaultFeedConfirmEvery, "how often the replica confirms to its DNS servers that their GSLB snapshot is current, after checking its view against etcd (100ms to 1m); a DNS server moves to another replica after --feed-stale-after without one")
	f.DurationVar(&cfg.StatusTTL, "status-ttl", 15*time.Second, "how long a PoP's status outlives its agent's last report")
	f.IntVar(&cfg.HistoryMaxEntries, "history-max-entries", controller.DefaultHistoryMaxEntries, "history records to keep (anyctl history, rollback); the leader prunes the oldest beyond it")
	f.DurationVar(&cfg.HistoryMaxAge, "history-max-age", controller.DefaultHistoryMaxAge, "how long history records are kept; a rollback reaches back no further")
	f.IntVar(&cfg.MaxConnections, "max-connections", 0, "most API connections from non-loopback addresses; more are closed at once (0: RLIMIT_NOFILE's soft limit less 1024)")
	f.IntVar(&cfg.MaxConnectionsPerIP, "max-connections-per-ip", controller.DefaultMaxConnectionsPerIP, "most API connections from one remote address")
	f.IntVar(&cfg.LocalConnections, "local-connections", controller.DefaultLocalConnections, "API connections over loopback or the Unix socket, a pool of their own so an operator on the host always gets in")
	f.DurationVar(&cfg.HandshakeTimeout, "handshake-timeout", controller.DefaultHandshakeTimeout, "how long a new API connection has to finish its TLS handshake and HTTP/2 preface")
	logs.register(f)
	return cmd
}

// refuseClientTLSFlags refuses the client commands' --tls-ca and
// --tls-server-name, which the controller inherits but does not use: the
// CA of its clients is --tls-client-ca.
func refuseClientTLSFlags(cmd *cobra.Command) error {
	for _, name := range []string{"tls-ca", "tls-server-name"} {
		if cmd.Flags().Changed(name) {
			return UsageErrorf("--%s is a client flag: the controller verifies its clients' certificates with --tls-client-ca", name)
		}
	}
	return nil
}

func prefixStrings[T interface{ String() string }](ps []T) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
