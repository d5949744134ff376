package cli

import (
	"github.com/spf13/cobra"
)

func init() { register(newDescribeCommand) }

func newDescribeCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "describe KIND NAME",
		Short: "Show every field of one object, for people",
		Long: `Describe prints an object's metadata and every field of its spec, one per
line, with the fields left unset shown as such.`,
		Example:           `  anyctl describe pop tokyo`,
		Args:              exactArgs(2),
		ValidArgsFunction: completeKindAndName(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := refArg(args[0], args[1])
			if err != nil {
				return err
			}
			c, err := dialAdmin(g)
			if err != nil {
				return err
			}
			defer c.Close()
			objs, err := fetchObjects(cmd.Context(), c, ref)
			if err != nil {
				return err
			}
			return writeDescription(g.stdout, objs[0])
		},
	}
}
