package cli

import (
	"context"
	"fmt"
	"github.com/anyctl/anyctl/endpoint"
	"os"
	"path/filepath"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/validation"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func init() { register(newDevCommand) }

func newDevCommand(g *globals) *cobra.Command {
	var (
		dataDir string
		listen  string
		metrics string
		logs    logFlags
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a whole local deployment in one process, with the examples applied",
		Long: `Run a controller with an embedded etcd in one process and apply the example
deployment (deploy/examples, built into the binary). Needs no root. Ctrl-C
stops everything; a second run reuses --data-dir.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logs.logger(g.stderr)
			if err != nil {
				return err
			}
			if dataDir == "" {
				dataDir = filepath.Join(os.TempDir(), fmt.Sprintf("anyctl-dev-%d", os.Getuid()))
			}
			c, err := controller.New(controller.Config{
				Listen:          listen,
				MetricsListen:   metrics,
				DataDir:         filepath.Join(dataDir, "controller"),
				AllowedPrefixes: validation.DefaultAllowedPrefixes(),
				Logger:          log,
			})
			if err != nil {
				return UsageErrorf("%v", err)
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx) }()
			select {
			case err := <-done:
				return err
			case <-c.Ready():
			}
			if err := applyExamples(ctx, endpoint.String(c.Addr())); err != nil {
				cancel()
				<-done
				return err
			}
			printDevBanner(g, c, dataDir)
			return <-done
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data-dir", "", "state directory (default: $TMPDIR/anyctl-dev-UID)")
	f.StringVar(&listen, "listen", DefaultServer, "controller gRPC listen address")
	f.StringVar(&metrics, "metrics-listen", DefaultMetricsListen, "controller metrics listen address")
	logs.register(f)
	return cmd
}

// applyExamples applies the embedded example deployment through the Admin API.
func applyExamples(ctx context.Context, addr string) error {
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		return fmt.Errorf("example deployment: %w", err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := v1.NewAdminServiceClient(conn).Apply(actx, &v1.ApplyRequest{Objects: objs}); err != nil {
		return fmt.Errorf("applying the example deployment: %w", err)
	}
	return nil
}

func printDevBanner(g *globals, c *controller.Controller, dataDir string) {
	addr := endpoint.String(c.Addr())
	fmt.Fprintf(g.stdout, `
anyctl dev is running (Ctrl-C stops it).

  controller   %s   (gRPC: Admin, Agent, GSLB feed; grpcurl works)
  metrics      http://%s/metrics
  etcd         embedded, data in %s

The example deployment is applied. Try, from another terminal:

  anyctl --server %s get pops
  anyctl --server %s get services -o yaml
  anyctl --server %s describe pop tokyo
  anyctl --server %s apply -f deploy/examples --dry-run

`, addr, c.MetricsAddr(), dataDir, addr, addr, addr, addr)
}
