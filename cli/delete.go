package cli

import (
	"context"
	"fmt"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/spf13/cobra"
)

func init() { register(newDeleteCommand) }

func newDeleteCommand(g *globals) *cobra.Command {
	var resourceVersion int64
	cmd := &cobra.Command{
		Use:   "delete KIND NAME",
		Short: "Delete one object",
		Long: `Delete removes one object. The controller refuses while other objects still
refer to it. With --resource-version the delete happens only if the stored
object still has that version.`,
		Example:           `  anyctl delete record origin-weighted --resource-version 42`,
		Args:              exactArgs(2),
		ValidArgsFunction: completeKindAndName(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := deleteRequest(args, resourceVersion)
			if err != nil {
				return err
			}
			err = callAdminWrite(cmd.Context(), g, func(ctx context.Context, c *adminClient) error {
				_, err := c.Delete(ctx, req)
				return err
			})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(g.stdout, objectLabel(req.GetKind(), req.GetName()), "deleted")
			return err
		},
	}
	cmd.Flags().Int64Var(&resourceVersion, "resource-version", 0, "delete only if the stored object has this version")
	return cmd
}

// deleteRequest maps delete's arguments and flags to the request.
func deleteRequest(args []string, resourceVersion int64) (*v1.DeleteRequest, error) {
	ref, err := refArg(args[0], args[1])
	if err != nil {
		return nil, err
	}
	if resourceVersion < 0 {
		return nil, UsageErrorf("--resource-version %d: want a version from get, or 0 for any", resourceVersion)
	}
	return &v1.DeleteRequest{Kind: ref.Kind, Name: ref.Name, ResourceVersion: resourceVersion}, nil
}
