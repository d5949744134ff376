// Package cli wires the anyctl commands: client commands that talk to the
// controller's Admin API, and the daemons as subcommands.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
	// ExitUnknownOutcome: a write's request reached the connection but
	// its answer never came (connection lost, deadline passed), so the
	// controller may have applied it; check with anyctl get.
	ExitUnknownOutcome = 3
)

// usageError marks an error in how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// UsageErrorf returns an error that makes anyctl exit with ExitUsage.
func UsageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exitError makes anyctl exit with code, printing err unless it is nil:
// diff's exit code says whether there are changes, not whether it failed.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e exitError) Unwrap() error { return e.err }

// globals are the flags every client command shares.
type globals struct {
	server     string
	configFile string
	tls        tlsFlags
	stdin      io.Reader
	stdout     io.Writer
	stderr     io.Writer
}

// Main runs anyctl with args and returns the process exit code. SIGINT and
// SIGTERM cancel the command's context; daemons stop cleanly on it.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	g := &globals{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRootCommand(g)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "anyctl:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "anyctl:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	var uo unknownOutcomeError
	if errors.As(err, &uo) {
		return ExitUnknownOutcome
	}
	return ExitFailure
}

func newRootCommand(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:           "anyctl",
		Short:         "Anycast + GSLB control plane: client and daemons",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().StringVar(&g.server, "server", "", "controller address (default: $ANYCTL_SERVER, then the config file, then "+DefaultServer+")")
	root.PersistentFlags().StringVar(&g.configFile, "config-file", "", "client config file (default: $ANYCTL_CONFIG or ~/.config/anyctl/config.yaml)")
	g.tls.register(root.PersistentFlags(), "--server", "client certificate (PEM); its OrganizationalUnit is its role, admin or viewer", true)
	for _, add := range subcommands {
		root.AddCommand(add(g))
	}
	return root
}

// subcommands register themselves from their own files with init, so each
// command lives in a file named for it.
var subcommands []func(*globals) *cobra.Command

func register(f func(*globals) *cobra.Command) { subcommands = append(subcommands, f) }

// exactArgs is cobra.ExactArgs with a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return UsageErrorf("%s takes %d argument(s), got %d", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}

// rangeArgs is cobra.RangeArgs with a usage error.
func rangeArgs(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min || len(args) > max {
			return UsageErrorf("%s takes %d to %d argument(s), got %d", cmd.CommandPath(), min, max, len(args))
		}
		return nil
	}
}
