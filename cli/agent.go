package cli

import (
	"github.com/anyctl/anyctl/agent"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func init() { register(newAgentCommand) }

func newAgentCommand(g *globals) *cobra.Command {
	var f agentFlags
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run a PoP agent: BGP announcements driven by desired state and local health",
		Long: `Run the agent of one PoP. It holds a stream to a controller, persists the
last config it accepted in --state-dir (so it restarts without a controller),
runs the health checks that gate announcements, and announces through an
embedded GoBGP speaker. Its local origination policy (allowed prefixes,
length limits, per-peer cap) comes from --config and flags only: no
controller can widen it.

A stop (SIGINT, SIGUSR1, or SIGTERM without graceful restart) moves traffic
away first: every announcement carries GRACEFUL_SHUTDOWN and the drain's
prepends for the shutdown grace period, then the sessions close with an
administrative shutdown. With graceful restart (gracefulRestart.enabled or
--graceful-restart), SIGTERM is a restart that moves nothing: the agent exits
without closing its sessions, peers keep its routes for the restart time,
and the next start sends them again, then End-of-RIB.`,
		Example: `  anyctl agent --config /etc/anyctl/agent.yaml
  anyctl agent --pop tokyo --controller 10.0.0.1:7400 --state-dir /var/lib/anyctl/agent \
      --allowed-prefixes 192.0.2.0/24,2001:db8::/32 \
      --tls-ca /etc/anyctl/ca.pem --tls-cert /etc/anyctl/tokyo.pem --tls-key /etc/anyctl/tokyo-key.pem`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := f.logs.logger(g.stderr)
			if err != nil {
				return err
			}
			var file agent.Config
			if f.configFile != "" {
				if file, err = agent.LoadConfigFile(f.configFile); err != nil {
					return UsageErrorf("--config: %v", err)
				}
			}
			cfg := f.merge(file, cmd.Flags().Changed)
			cfg.Logger = log
			a, err := agent.New(cfg)
			if err != nil {
				return UsageErrorf("%v", err)
			}
			ctx, stop := agentContext(cmd.Context(), a, cfg.GracefulRestart.Enabled, log.With("pop", cfg.Pop))
			defer stop()
			return a.Run(ctx)
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// agentFlags are the flags of `anyctl agent`.
type agentFlags struct {
	configFile      string
	pop             string
	controller      string
	stateDir        string
	metricsListen   string
	allowed         []string
	shutdownGrace   agent.Duration
	gracefulRestart bool
	tls             tlsFlags
	logs            logFlags
}

func (f *agentFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.configFile, "config", "", "agent config file (YAML); flags override it")
	fs.StringVar(&f.pop, "pop", "", "the PoP this agent runs for")
	fs.StringVar(&f.controller, "controller", DefaultServer, "controller gRPC address (host:port or unix:PATH); several replicas separated by commas, or a DNS name with several addresses")
	fs.StringVar(&f.stateDir, "state-dir", "/var/lib/anyctl/agent", "directory for the persisted config")
	fs.StringVar(&f.metricsListen, "metrics-listen", "127.0.0.1:7402", "Prometheus metrics listen address (empty: off)")
	fs.StringSliceVar(&f.allowed, "allowed-prefixes", nil, "address space this PoP may announce (origination.allowedPrefixes)")
	f.tls.register(fs, "--controller", "the agent's certificate (PEM): CommonName the PoP, OrganizationalUnit agent (tls.cert)", false)
	fs.Var(durationFlag{&f.shutdownGrace}, "shutdown-grace", "how long announcements carry GRACEFUL_SHUTDOWN before the sessions close on a stop (default 5s)")
	fs.BoolVar(&f.gracefulRestart, "graceful-restart", false, "RFC 4724 graceful restart: SIGTERM restarts without moving traffic (gracefulRestart.enabled)")
	f.logs.register(fs)
}

// merge lays the flags over the config file's settings (file; zero
// without a file). A flag given on the command line (changed says which)
// wins over the file. A flag left out leaves the file's setting, except
// that --controller, --state-dir and --metrics-listen fill with their
// defaults what the file leaves empty: to run without metrics, give
// --metrics-listen "". Settings with no flag come from the file alone.
func (f *agentFlags) merge(file agent.Config, changed func(flag string) bool) agent.Config {
	cfg := file
	if changed("pop") {
		cfg.Pop = f.pop
	}
	if changed("controller") || cfg.Controller == "" {
		cfg.Controller = f.controller
	}
	if changed("state-dir") || cfg.StateDir == "" {
		cfg.StateDir = f.stateDir
	}
	if changed("metrics-listen") || cfg.MetricsListen == "" {
		cfg.MetricsListen = f.metricsListen
	}
	if changed("allowed-prefixes") {
		cfg.Origination.AllowedPrefixes = f.allowed
	}
	if changed("shutdown-grace") {
		cfg.ShutdownGrace = f.shutdownGrace
	}
	if changed("graceful-restart") {
		cfg.GracefulRestart.Enabled = f.gracefulRestart
	}
	if changed("tls-ca") {
		cfg.TLS.CA = f.tls.ca
	}
	if changed("tls-cert") {
		cfg.TLS.Cert = f.tls.cert
	}
	if changed("tls-key") {
		cfg.TLS.Key = f.tls.key
	}
	if changed("tls-server-name") {
		cfg.TLS.ServerName = f.tls.serverName
	}
	return cfg
}
