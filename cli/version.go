package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version and Commit identify the build; release builds set them with
//
//	go build -ldflags "-X github.com/anyctl/anyctl/cli.Version=v1.2.3 -X github.com/anyctl/anyctl/cli.Commit=abc1234"
var (
	Version = "dev"
	Commit  = ""
)

func init() { register(newVersionCommand) }

func newVersionCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of anyctl",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(g.stdout, versionLine(Version, buildCommit(Commit)))
			return err
		},
	}
}

func versionLine(version, commit string) string {
	return fmt.Sprintf("anyctl %s (commit %s, %s %s/%s)", version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// buildCommit is the commit set at link time, else the one the Go
// toolchain recorded, else "unknown".
func buildCommit(linked string) string {
	if linked != "" {
		return linked
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value
			}
		}
	}
	return "unknown"
}
