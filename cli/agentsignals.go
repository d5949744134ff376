package cli

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/anyctl/anyctl/agent"
)

// agentContext is the agent's run context, ended by the signals that stop
// it, each with its intent:
//   - SIGTERM (systemctl stop and restart, a package upgrade): a restart
//     that moves nothing when graceful restart is enabled, else a stop;
//   - SIGINT (Ctrl-C) and SIGUSR1 (systemctl kill -s USR1): always a stop,
//     traffic moving away first (GRACEFUL_SHUTDOWN, then the sessions close).
//
// It watches the signals itself rather than take the root context, which
// ends on SIGINT and SIGTERM alike.
func agentContext(parent context.Context, a *agent.Agent, gracefulRestart bool, log *slog.Logger) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1)
	go func() {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGTERM && gracefulRestart {
				log.Info("SIGTERM: exiting for a restart; peers keep the routes (SIGINT or SIGUSR1 stop with traffic moving away)")
				a.ExitForRestart()
			} else {
				log.Info("stopping: traffic moves away first", "signal", sig.String())
			}
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		cancel()
	}
}
