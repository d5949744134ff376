package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

func init() { register(newHistoryCommand) }

func newHistoryCommand(g *globals) *cobra.Command {
	var output string
	var limit int
	cmd := &cobra.Command{
		Use:   "history [KIND [NAME]]",
		Short: "Show the recorded writes of the desired state, newest first",
		Long: `History lists the writes of the desired state, newest first: each apply,
delete, rollback and restore, with its etcd revision, when it was made, who
made it (the client certificate's name and role, or "local" without TLS)
and what it changed, field by field. Roll back to a revision it shows with
anyctl rollback --to-revision N. The controller keeps --history-max-entries
records for --history-max-age (10,000 and 90 days by default); they are
etcd keys of their own, so etcd's compaction does not remove them.

The table shows each changed object on a line of its own, with its changed
fields as "path: old→new"; for one object (KIND NAME) every changed field of
each change is listed under it. -o json and -o yaml give every record in full.`,
		Example: `  anyctl history
  anyctl history services
  anyctl history pop tokyo -o yaml`,
		Args:              rangeArgs(0, 2),
		ValidArgsFunction: completeKindAndName(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return err
			}
			if format == outputName {
				return UsageErrorf("-o name: history has no names; want table, yaml or json")
			}
			if limit < 0 {
				return UsageErrorf("--limit %d: want the number of records to show (0 for the controller's default of 100)", limit)
			}
			req := &v1.HistoryRequest{Limit: int32(min(limit, 1<<30))}
			if len(args) > 0 {
				name := ""
				if len(args) > 1 {
					name = args[1]
				}
				ref, err := refArg(args[0], name)
				if err != nil {
					return err
				}
				req.Kind, req.Name = ref.Kind, ref.Name
			}
			var resp *v1.HistoryResponse
			err = callAdmin(cmd.Context(), g, func(ctx context.Context, c *adminClient) error {
				resp, err = c.History(ctx, req)
				return err
			})
			if err != nil {
				return err
			}
			if format != outputTable {
				return writeHistoryData(g.stdout, resp, format)
			}
			if len(resp.GetEntries()) == 0 {
				_, err := fmt.Fprintf(g.stderr, "no history recorded (history is complete after revision %d)\n", resp.GetFloor())
				return err
			}
			return writeHistoryTable(g.stdout, resp.GetEntries(), req.GetName() != "")
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", outputTable, "output format: table, yaml or json")
	cmd.Flags().IntVar(&limit, "limit", 0, "most records to show, newest first (0: the controller's default, 100)")
	return cmd
}

// historyActions are the words history prints per change.
var historyActions = map[v1.ApplyAction]string{
	v1.ApplyAction_APPLY_ACTION_CREATED: "created",
	v1.ApplyAction_APPLY_ACTION_UPDATED: "changed",
	v1.ApplyAction_APPLY_ACTION_DELETED: "deleted",
}

// maxChangeCell bounds the CHANGES cell of the history table.
const maxChangeCell = 100

// writeHistoryTable prints a row per changed object (a record with no
// changes, such as a restore, gets one row), and with full every changed
// field of a changed object under its row.
func writeHistoryTable(w io.Writer, entries []*v1.HistoryEntry, full bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tTIME\tACTOR\tOPERATION\tOBJECT\tACTION\tCHANGES")
	for _, e := range entries {
		head := fmt.Sprintf("%d\t%s\t%s\t%s", e.GetRevision(), e.GetTime().AsTime().UTC().Format(time.RFC3339), actorCell(e), operationCell(e))
		if len(e.GetChanges()) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", head, cellNone, cellNone, cellNone)
		}
		for _, c := range e.GetChanges() {
			changes := cellNone
			if c.GetAction() == v1.ApplyAction_APPLY_ACTION_UPDATED {
				changes = clip(strings.Join(compactDiff(c.GetDiff()), ", "), maxChangeCell)
			}
			action, ok := historyActions[c.GetAction()]
			if !ok {
				action = e.GetOperation() // a drain names its Pop, unchanged
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", head, objectLabel(c.GetKind(), c.GetName()), action, changes)
			if full && c.GetAction() == v1.ApplyAction_APPLY_ACTION_UPDATED {
				// Under CHANGES, the last column, so as not to widen the others.
				for _, l := range strings.Split(strings.TrimRight(c.GetDiff(), "\n"), "\n") {
					if l != "" {
						fmt.Fprintf(tw, "\t\t\t\t\t\t%s\n", l)
					}
				}
			}
		}
	}
	return tw.Flush()
}

func actorCell(e *v1.HistoryEntry) string {
	if e.GetRole() != "" {
		return e.GetActor() + " (" + e.GetRole() + ")"
	}
	return e.GetActor()
}

func operationCell(e *v1.HistoryEntry) string {
	if e.GetDetail() != "" {
		return e.GetOperation() + " " + e.GetDetail()
	}
	return e.GetOperation()
}

// compactDiff turns a field diff's "- path: old" and "+ path: new" lines
// into "path: old→new", "path: (unset)→new" or "path: old→(unset)", in the
// diff's order.
func compactDiff(diff string) []string {
	type pair struct{ old, new string }
	var order []string
	vals := map[string]*pair{}
	for _, l := range strings.Split(diff, "\n") {
		if len(l) < 3 {
			continue
		}
		path, value, ok := strings.Cut(l[2:], ": ")
		if !ok {
			continue
		}
		p := vals[path]
		if p == nil {
			p = &pair{}
			vals[path] = p
			order = append(order, path)
		}
		if l[0] == '-' {
			p.old = value
		} else {
			p.new = value
		}
	}
	out := make([]string, 0, len(order))
	for _, path := range order {
		p := vals[path]
		switch {
		case p.old == "":
			out = append(out, path+": (unset)→"+p.new)
		case p.new == "":
			out = append(out, path+": "+p.old+"→(unset)")
		default:
			out = append(out, path+": "+p.old+"→"+p.new)
		}
	}
	return out
}

// clip shortens s to at most n runes, ending it with "…".
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// historyView is a history record as -o json and -o yaml print it: the
// diff as lines, the objects' full states left out (get them with
// anyctl get, or see them in a backup).
type historyView struct {
	Revision  int64        `json:"revision" yaml:"revision"`
	Time      time.Time    `json:"time" yaml:"time"`
	Actor     string       `json:"actor" yaml:"actor"`
	Role      string       `json:"role,omitempty" yaml:"role,omitempty"`
	Operation string       `json:"operation" yaml:"operation"`
	Detail    string       `json:"detail,omitempty" yaml:"detail,omitempty"`
	Changes   []changeView `json:"changes" yaml:"changes"`
}

type changeView struct {
	Kind   string   `json:"kind" yaml:"kind"`
	Name   string   `json:"name" yaml:"name"`
	Action string   `json:"action" yaml:"action"`
	Diff   []string `json:"diff,omitempty" yaml:"diff,omitempty"`
}

type historyListView struct {
	Floor   int64         `json:"completeAfterRevision" yaml:"completeAfterRevision"`
	Entries []historyView `json:"entries" yaml:"entries"`
}

func writeHistoryData(w io.Writer, resp *v1.HistoryResponse, format string) error {
	v := historyListView{Floor: resp.GetFloor(), Entries: []historyView{}}
	for _, e := range resp.GetEntries() {
		hv := historyView{Revision: e.GetRevision(), Time: e.GetTime().AsTime().UTC(), Actor: e.GetActor(), Role: e.GetRole(),
			Operation: e.GetOperation(), Detail: e.GetDetail(), Changes: []changeView{}}
		for _, c := range e.GetChanges() {
			cv := changeView{Kind: resource.KindName(c.GetKind()), Name: c.GetName(), Action: historyActions[c.GetAction()]}
			if cv.Action == "" {
				cv.Action = e.GetOperation()
			}
			for _, l := range strings.Split(strings.TrimRight(c.GetDiff(), "\n"), "\n") {
				if l != "" {
					cv.Diff = append(cv.Diff, l)
				}
			}
			hv.Changes = append(hv.Changes, cv)
		}
		v.Entries = append(v.Entries, hv)
	}
	if format == outputJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return err
	}
	return enc.Close()
}
