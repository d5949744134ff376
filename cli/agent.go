package cli

import (
	"github.com/anyctl/anyctl/agent"
	"github.com/spf13/cobra"
)

func init() { register(newAgentCommand) }

func newAgentCommand(g *globals) *cobra.Command {
	var (
		cfgFile string
		flagCfg agent.Config
		allowed []string
		tlsF    tlsFlags
		logs    logFlags
	)
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
			log, err := logs.logger(g.stderr)
			if err != nil {
				return err
			}
			var cfg agent.Config
			if cfgFile != "" {
				if cfg, err = agent.LoadConfigFile(cfgFile); err != nil {
					return UsageErrorf("--config: %v", err)
				}
			}
			f := cmd.Flags()
			if f.Changed("pop") {
				cfg.Pop = flagCfg.Pop
			}
			if f.Changed("controller") || cfg.Controller == "" {
				cfg.Controller = flagCfg.Controller
			}
			if f.Changed("state-dir") || cfg.StateDir == "" {
				cfg.StateDir = flagCfg.StateDir
			}
			if f.Changed("metrics-listen") || cfg.MetricsListen == "" {
				cfg.MetricsListen = flagCfg.MetricsListen
			}
			if f.Changed("allowed-prefixes") {
				cfg.Origination.AllowedPrefixes = allowed
			}
			if f.Changed("shutdown-grace") {
				cfg.ShutdownGrace = flagCfg.ShutdownGrace
			}
			if f.Changed("graceful-restart") {
				cfg.GracefulRestart.Enabled = flagCfg.GracefulRestart.Enabled
			}
			if f.Changed("tls-ca") {
				cfg.TLS.CA = tlsF.ca
			}
			if f.Changed("tls-cert") {
				cfg.TLS.Cert = tlsF.cert
			}
			if f.Changed("tls-key") {
				cfg.TLS.Key = tlsF.key
			}
			if f.Changed("tls-server-name") {
				cfg.TLS.ServerName = tlsF.serverName
			}
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
	f := cmd.Flags()
	f.StringVar(&cfgFile, "config", "", "agent config file (YAML); flags override it")
	f.StringVar(&flagCfg.Pop, "pop", "", "the PoP this agent runs for")
	f.StringVar(&flagCfg.Controller, "controller", DefaultServer, "controller gRPC address")
	f.StringVar(&flagCfg.StateDir, "state-dir", "/var/lib/anyctl/agent", "directory for the persisted config")
	f.StringVar(&flagCfg.MetricsListen, "metrics-listen", "127.0.0.1:7402", "Prometheus metrics listen address (empty: off)")
	f.StringSliceVar(&allowed, "allowed-prefixes", nil, "address space this PoP may announce (origination.allowedPrefixes)")
	tlsF.register(f, "--controller", "the agent's certificate (PEM): CommonName the PoP, OrganizationalUnit agent (tls.cert)", false)
	f.Var(durationFlag{&flagCfg.ShutdownGrace}, "shutdown-grace", "how long announcements carry GRACEFUL_SHUTDOWN before the sessions close on a stop (default 5s)")
	f.BoolVar(&flagCfg.GracefulRestart.Enabled, "graceful-restart", false, "RFC 4724 graceful restart: SIGTERM restarts without moving traffic (gracefulRestart.enabled)")
	logs.register(f)
	return cmd
}
