package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/anyctl/anyctl/devenv"
	"github.com/spf13/cobra"
)

func init() { register(newDevCommand) }

func newDevCommand(g *globals) *cobra.Command {
	var (
		cfg  devenv.Config
		logs logFlags
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a whole deployment in one process: controller, DNS, an agent per PoP, a router",
		Long: `Run everything in one process, for a first look: an embedded etcd and a
controller; the example deployment (deploy/examples, built into the binary)
applied; a GeoDNS server fed by the controller; an in-process upstream BGP
router; and one agent per example PoP peering with it. Local stand-ins answer
the health checks, so every PoP comes up healthy. Needs no root. Ctrl-C stops
everything; a second run reuses --data-dir.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logs.logger(g.stderr)
			if err != nil {
				return err
			}
			if cfg.DataDir == "" {
				cfg.DataDir = filepath.Join(os.TempDir(), fmt.Sprintf("anyctl-dev-%d", os.Getuid()))
			}
			cfg.Logger = log
			return devenv.Run(cmd.Context(), cfg, func(info devenv.Info) { printDevBanner(g, info) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", "", "state directory (default: $TMPDIR/anyctl-dev-UID)")
	f.StringVar(&cfg.Listen, "listen", DefaultServer, "controller gRPC listen address")
	f.StringVar(&cfg.MetricsListen, "metrics-listen", DefaultMetricsListen, "controller metrics listen address")
	f.StringVar(&cfg.ConsoleListen, "console-listen", "127.0.0.1:7480", "web console listen address (empty: off)")
	f.StringVar(&cfg.DNSListen, "dns-listen", "127.0.0.1:5300", "DNS server UDP and TCP listen address")
	logs.registerWithLevel(f, "warn")
	return cmd
}

func printDevBanner(g *globals, info devenv.Info) {
	server := ""
	if info.Controller != DefaultServer {
		server = " --server " + info.Controller
	}
	host, port, _ := strings.Cut(info.DNS, ":")
	fmt.Fprintf(g.stdout, `
anyctl dev is running. Ctrl-C stops it.

  controller  %s  (Admin, Agent and GSLB feed APIs over gRPC; grpcurl works)
  metrics     http://%s/metrics
  console     %s  (web console: fleet map, PoPs, origins, GSLB, events)
  dns         %s  (UDP and TCP; authoritative for gslb.example.com.)
  router      %s  (in-process upstream BGP router, AS%d)
  agents      %s, each peering with the router
  state       %s
  dnssec      gslb.example.com. is signed; its DS record:
              %s

The example deployment is applied. From another terminal, try:

  anyctl%s status
  anyctl%s describe pop tokyo
  anyctl%s explain origin.gslb.example.com --client 198.51.100.7 --default-location 50.1109,8.6821,DE,EU
  dig @%s -p %s origin.gslb.example.com +subnet=203.0.113.0/24
  anyctl%s drain pop london
  delv @%s -p %s -a %s +root=gslb.example.com origin.gslb.example.com

`, info.Controller, info.Metrics, consoleOrOff(info.Console), info.DNS, info.Router, devenv.RouterASN, strings.Join(info.Pops, ", "), info.DataDir, info.DS,
		server, server, server, host, port, server, host, port, info.TrustAnchor)
}

func consoleOrOff(url string) string {
	if url == "" {
		return "off"
	}
	return url
}
