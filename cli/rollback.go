package cli

import (
	"context"
	"fmt"
	"io"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/spf13/cobra"
)

func init() { register(newRollbackCommand) }

func newRollbackCommand(g *globals) *cobra.Command {
	var to int64
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "rollback [KIND NAME] --to-revision N",
		Short: "Put the desired state (or one object) back as it was at a revision",
		Long: `Rollback puts every object back to its state at revision N (a revision
anyctl history shows), or only the object KIND NAME: objects created since
are deleted, deleted ones come back, changed ones get their old fields. The
state at N comes from the history records, so a rollback works after etcd
has compacted the revision, back to the oldest record the retention kept.
The result passes the same validation as an apply and is written in one
transaction, all or nothing, and recorded in the history itself (so a
rollback can be rolled back). With --dry-run the controller shows what
would change without writing. Needs the admin role.`,
		Example: `  anyctl history
  anyctl rollback --to-revision 41 --dry-run
  anyctl rollback --to-revision 41
  anyctl rollback service edge-dns --to-revision 41`,
		Args:              rangeArgs(0, 2),
		ValidArgsFunction: completeKindAndName(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("to-revision") {
				return UsageErrorf("rollback needs --to-revision N: a revision from anyctl history")
			}
			if to < 0 {
				return UsageErrorf("--to-revision %d: want a revision from anyctl history (0 or more)", to)
			}
			req := &v1.RollbackRequest{ToRevision: to, DryRun: dryRun}
			switch len(args) {
			case 1:
				return UsageErrorf("rollback takes KIND and NAME for one object, or neither for every object; got only %q", args[0])
			case 2:
				ref, err := refArg(args[0], args[1])
				if err != nil {
					return err
				}
				req.Kind, req.Name = ref.Kind, ref.Name
			}
			call := callAdminWrite
			if dryRun {
				call = callAdmin
			}
			var resp *v1.RollbackResponse
			err := call(cmd.Context(), g, func(ctx context.Context, c *adminClient) error {
				var err error
				resp, err = c.Rollback(ctx, req)
				return err
			})
			if err != nil {
				return reportRejection(g.stderr, "rollback", err)
			}
			return writeRollbackResults(g.stdout, resp, to, dryRun)
		},
	}
	cmd.Flags().Int64Var(&to, "to-revision", 0, "the revision to go back to (see anyctl history)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate and show the changes without writing them")
	return cmd
}

// writeRollbackResults prints a line per object the rollback changes (with
// its fields on a dry run), then the revision it wrote.
func writeRollbackResults(w io.Writer, resp *v1.RollbackResponse, to int64, dryRun bool) error {
	var changed []*v1.ApplyResult
	for _, r := range resp.GetResults() {
		if r.GetAction() != v1.ApplyAction_APPLY_ACTION_UNCHANGED {
			changed = append(changed, r)
		}
	}
	if len(changed) == 0 {
		_, err := fmt.Fprintf(w, "nothing to roll back: the state is as it was at revision %d\n", to)
		return err
	}
	if err := writeApplyResults(w, &v1.ApplyResponse{Results: changed}, dryRun); err != nil {
		return err
	}
	if dryRun {
		return nil
	}
	_, err := fmt.Fprintf(w, "rolled back to revision %d as revision %d\n", to, resp.GetRevision())
	return err
}
