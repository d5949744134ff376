package cli

import (
	"context"
	"time"

	"github.com/anyctl/anyctl/resource"
	"github.com/spf13/cobra"
)

// completionTimeout bounds the call that completes object names: a shell
// waiting on a Tab must not hang on an unreachable controller.
const completionTimeout = 3 * time.Second

func init() { register(newCompletionCommand) }

func newCompletionCommand(g *globals) *cobra.Command {
	shells := []string{"bash", "zsh", "fish", "powershell"}
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script",
		Long: `Completion prints a script that makes the shell complete anyctl's commands,
flags, kinds and object names (names come from the controller).`,
		Example: `  source <(anyctl completion bash)
  anyctl completion zsh > "${fpath[1]}/_anyctl"
  anyctl completion fish > ~/.config/fish/completions/anyctl.fish`,
		Args:      exactArgs(1),
		ValidArgs: shells,
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(g.stdout, true)
			case "zsh":
				return root.GenZshCompletion(g.stdout)
			case "fish":
				return root.GenFishCompletion(g.stdout, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(g.stdout)
			}
			return UsageErrorf("unknown shell %q: want bash, zsh, fish or powershell", args[0])
		},
	}
}

// completeKindAndName completes KIND NAME arguments: kinds from the list
// of kinds, names from the controller.
func completeKindAndName(g *globals) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		switch len(args) {
		case 0:
			var kinds []cobra.Completion
			for _, k := range resource.Kinds() {
				kinds = append(kinds, resource.KindPlural(k))
			}
			return kinds, cobra.ShellCompDirectiveNoFileComp
		case 1:
			return completeNames(cmd.Context(), g, args[0]), cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
}

func completeNames(ctx context.Context, g *globals, kind string) []cobra.Completion {
	k, err := resource.ParseKind(kind)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	var names []cobra.Completion
	err = callAdmin(ctx, g, func(ctx context.Context, c *adminClient) error {
		objs, err := listObjects(ctx, c, k)
		for _, o := range objs {
			names = append(names, resource.Meta(o).GetName())
		}
		return err
	})
	if err != nil {
		return nil
	}
	return names
}
