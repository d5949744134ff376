package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/spf13/cobra"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

func init() { register(newApplyCommand) }

// applyOptions are apply's flags.
type applyOptions struct {
	files  []string
	dryRun bool
	// prune deletes the stored objects of the pruned kinds the manifests
	// do not hold: the kinds in the manifests and pruneKinds.
	prune      bool
	pruneKinds []string
}

func newApplyCommand(g *globals) *cobra.Command {
	var opts applyOptions
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR|- [-f ...]",
		Short: "Create or update objects from YAML manifests, all or nothing",
		Long: `Apply sends every object in the manifests to the controller, which validates
them as a whole and writes them in one transaction: either every object is
applied or none is. A directory means its *.yaml, *.yml and *.json files in
name order; - means standard input. With --dry-run the controller validates
and shows what would change, field by field, without writing.

With --prune the apply also deletes, in the same transaction, every stored
object of the kinds the manifests hold that the manifests do not hold: the
manifests are then the whole truth for those kinds. Kinds with no object in
the manifests are left alone unless named with --prune-kind (so that
removing the last record of a kind still prunes it). A deletion that would
break a reference from an object that stays refuses the whole apply; with
--dry-run the objects that would be deleted are listed.`,
		Example: `  anyctl apply -f deploy/examples/
  anyctl apply -f pops.yaml -f services.yaml --dry-run
  anyctl get pop tokyo -o yaml | anyctl apply -f -
  anyctl apply --prune -f deploy/examples/ --dry-run`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := applyRequest(opts, g.stdin)
			if err != nil {
				return reportManifestProblems(g.stderr, err)
			}
			var resp *v1.ApplyResponse
			call := callAdminWrite
			if opts.dryRun {
				call = callAdmin // writes nothing
			}
			err = call(cmd.Context(), g, func(ctx context.Context, c *adminClient) error {
				resp, err = c.Apply(ctx, req)
				return err
			})
			if err != nil {
				return reportApplyRejection(g.stderr, err)
			}
			writeApplyWarnings(g.stderr, resp)
			return writeApplyResults(g.stdout, resp, opts.dryRun)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&opts.files, "filename", "f", nil, "manifest file, directory or - for stdin (repeatable)")
	f.BoolVar(&opts.dryRun, "dry-run", false, "validate and show the changes without writing them")
	f.BoolVar(&opts.prune, "prune", false, "delete the stored objects of the manifests' kinds that the manifests do not hold")
	f.StringArrayVar(&opts.pruneKinds, "prune-kind", nil, "with --prune, prune this kind too even when the manifests hold none of it (repeatable)")
	return cmd
}

// applyRequest reads the manifests the flags name into an Apply request.
func applyRequest(opts applyOptions, stdin io.Reader) (*v1.ApplyRequest, error) {
	if len(opts.files) == 0 {
		return nil, UsageErrorf("apply needs at least one -f FILE, DIR or - for stdin")
	}
	objs, err := manifest.LoadPaths(opts.files, stdin)
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("no objects in %s", strings.Join(opts.files, ", "))
	}
	req := &v1.ApplyRequest{Objects: objs, DryRun: opts.dryRun}
	if len(opts.pruneKinds) > 0 && !opts.prune {
		return nil, UsageErrorf("--prune-kind needs --prune")
	}
	if opts.prune {
		if req.PruneKinds, err = pruneKinds(objs, opts.pruneKinds); err != nil {
			return nil, err
		}
	}
	if n := proto.Size(req); n > maxApplyRequestBytes {
		return nil, fmt.Errorf("%s: %d objects of %d bytes in all, over the controller's limit of 4 MiB (%d bytes) per apply: %s",
			strings.Join(opts.files, ", "), len(objs), n, controller.MaxRequestBytes, splitHint)
	}
	return req, nil
}

// maxApplyRequestBytes is the largest apply the client sends: the
// controller's request limit, less room for gRPC's framing.
const maxApplyRequestBytes = controller.MaxRequestBytes - 4<<10

// splitHint is the way round a limit of one apply.
const splitHint = "split the manifests into several files and apply them one at a time (each apply is all or nothing by itself)"

// reportManifestProblems prints every problem found in the manifests, one
// per line, and returns a summary.
func reportManifestProblems(w io.Writer, err error) error {
	lines := strings.Split(err.Error(), "\n")
	if len(lines) == 1 {
		return err
	}
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	return fmt.Errorf("%d problems in the manifests; nothing was sent", len(lines))
}

// reportApplyRejection prints the controller's validation problems, one
// per line, as they came, and returns a summary. Other errors pass through.
func reportApplyRejection(w io.Writer, err error) error {
	return reportRejection(w, "apply", err)
}

// reportRejection is reportApplyRejection for a write named what.
func reportRejection(w io.Writer, what string, err error) error {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		return err
	}
	problems := rejectionProblems(st)
	for _, p := range problems {
		fmt.Fprintln(w, p)
	}
	noun := "problems"
	if len(problems) == 1 {
		noun = "problem"
	}
	return fmt.Errorf("the controller rejected the %s (%d %s); nothing was written", what, len(problems), noun)
}

// rejectionProblems lists an InvalidArgument status's problems: the lines
// of its message, then any field violations in its details.
func rejectionProblems(st *status.Status) []string {
	var out []string
	for _, l := range strings.Split(st.Message(), "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out = append(out, v.GetField()+": "+v.GetDescription())
			}
		}
	}
	return out
}

// applyActions are the words apply prints per object, as kubectl does.
var applyActions = map[v1.ApplyAction]string{
	v1.ApplyAction_APPLY_ACTION_CREATED:   "created",
	v1.ApplyAction_APPLY_ACTION_UPDATED:   "configured",
	v1.ApplyAction_APPLY_ACTION_UNCHANGED: "unchanged",
	v1.ApplyAction_APPLY_ACTION_DELETED:   "deleted",
}

// writeApplyWarnings prints what the controller accepted but warns about,
// one "Warning:" line each, as kubectl does.
func writeApplyWarnings(w io.Writer, resp *v1.ApplyResponse) {
	for _, warn := range resp.GetWarnings() {
		fmt.Fprintf(w, "Warning: %s\n", warn)
	}
}

// writeApplyResults prints one line per object, and on a dry run the
// changes under it.
func writeApplyResults(w io.Writer, resp *v1.ApplyResponse, dryRun bool) error {
	var b strings.Builder
	for _, r := range resp.GetResults() {
		action, ok := applyActions[r.GetAction()]
		if !ok {
			action = "applied"
		}
		b.WriteString(objectLabel(r.GetKind(), r.GetName()) + " " + action)
		if dryRun {
			b.WriteString(" (dry run)")
		}
		b.WriteString("\n")
		if !dryRun {
			continue
		}
		for _, l := range strings.Split(strings.TrimRight(r.GetDiff(), "\n"), "\n") {
			if l != "" {
				b.WriteString("    " + l + "\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// pruneKinds is the prune scope: the kinds of the objects, and those named.
func pruneKinds(objs []*v1.Object, named []string) ([]v1.Kind, error) {
	seen := map[v1.Kind]bool{}
	for _, o := range objs {
		seen[resource.KindOf(o)] = true
	}
	for _, n := range named {
		k, err := resource.ParseKind(n)
		if err != nil {
			return nil, UsageErrorf("--prune-kind: %w", err)
		}
		seen[k] = true
	}
	var kinds []v1.Kind
	for _, k := range resource.Kinds() {
		if seen[k] {
			kinds = append(kinds, k)
		}
	}
	return kinds, nil
}
