package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/spf13/cobra"
)

func init() { register(newDiffCommand) }

// Exit codes of diff, as kubectl diff's.
const (
	diffNone    = 0
	diffChanges = 1
	diffError   = 2
)

func newDiffCommand(g *globals) *cobra.Command {
	var opts applyOptions
	cmd := &cobra.Command{
		Use:   "diff -f FILE|DIR|- [-f ...]",
		Short: "Show what apply would change, field by field",
		Long: `Diff sends the manifests to the controller as a dry-run apply, which
validates them against the stored state and writes nothing, and prints
each object apply would create, change or (with --prune) delete, with its
fields: "-" lines are the stored values, "+" lines the manifests'.

It exits 0 when apply would change nothing, 1 when it would change
something, and 2 or more on an error (invalid manifests included), as
kubectl diff does, so that CI can gate on it.`,
		Example: `  anyctl diff -f deploy/examples/
  anyctl diff --prune -f manifests/ || echo "drift"`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.dryRun = true
			req, err := applyRequest(opts, g.stdin)
			if err != nil {
				return exitError{diffError, reportManifestProblems(g.stderr, err)}
			}
			var resp *v1.ApplyResponse
			err = callAdmin(cmd.Context(), g, func(ctx context.Context, c *adminClient) error {
				resp, err = c.Apply(ctx, req)
				return err
			})
			if err != nil {
				return exitError{diffError, reportRejection(g.stderr, "diff", err)}
			}
			n, err := writeDiff(g.stdout, req.GetObjects(), resp)
			if err != nil {
				return exitError{diffError, err}
			}
			if n > 0 {
				return exitError{code: diffChanges}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&opts.files, "filename", "f", nil, "manifest file, directory or - for stdin (repeatable)")
	f.BoolVar(&opts.prune, "prune", false, "show the deletions apply --prune would make")
	f.StringArrayVar(&opts.pruneKinds, "prune-kind", nil, "with --prune, prune this kind too (repeatable)")
	return cmd
}

// writeDiff prints every object a dry-run apply would change and returns
// how many there are.
func writeDiff(w io.Writer, objs []*v1.Object, resp *v1.ApplyResponse) (int, error) {
	given := map[resource.Ref]*v1.Object{}
	for _, o := range objs {
		given[resource.RefOf(o)] = o
	}
	var b strings.Builder
	n := 0
	for _, r := range resp.GetResults() {
		label := objectLabel(r.GetKind(), r.GetName())
		diff := r.GetDiff()
		switch r.GetAction() {
		case v1.ApplyAction_APPLY_ACTION_CREATED:
			fmt.Fprintf(&b, "--- %s (absent)\n+++ %s (manifests)\n", label, label)
			diff = resource.Diff(nil, given[resource.Ref{Kind: r.GetKind(), Name: r.GetName()}])
		case v1.ApplyAction_APPLY_ACTION_UPDATED:
			fmt.Fprintf(&b, "--- %s (stored, version %d)\n+++ %s (manifests)\n", label, r.GetResourceVersion(), label)
		case v1.ApplyAction_APPLY_ACTION_DELETED:
			fmt.Fprintf(&b, "--- %s (stored, version %d)\n+++ %s (pruned: not in the manifests)\n", label, r.GetResourceVersion(), label)
		default:
			continue
		}
		n++
		b.WriteString(diff)
		if diff != "" && !strings.HasSuffix(diff, "\n") {
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return n, err
}
