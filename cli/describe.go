package cli

import (
	"context"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/spf13/cobra"
)

func init() { register(newDescribeCommand) }

func newDescribeCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "describe KIND NAME",
		Short: "Show every field of one object, for people",
		Long: `Describe prints an object's metadata and every field of its spec, one per
line, with the fields left unset shown as such. For a PoP it adds what its
agent last reported: sessions, every prefix with why it is or is not
announced, and every health check.`,
		Example:           `  anyctl describe pop tokyo`,
		Args:              exactArgs(2),
		ValidArgsFunction: completeKindAndName(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := refArg(args[0], args[1])
			if err != nil {
				return err
			}
			return callAdmin(cmd.Context(), g, func(ctx context.Context, c *adminClient) error {
				objs, err := fetchObjects(ctx, c, ref)
				if err != nil {
					return err
				}
				if err := writeDescription(g.stdout, objs[0]); err != nil {
					return err
				}
				if ref.Kind != v1.Kind_KIND_POP {
					return nil
				}
				resp, err := c.Status(ctx, &v1.StatusRequest{Pop: ref.Name})
				if err != nil {
					return err
				}
				return writePopStatus(g.stdout, resp)
			})
		},
	}
}
