package cli

import (
	"context"
	"fmt"
	"io"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/spf13/cobra"
)

func init() { register(newGetCommand) }

// getOptions is what get was asked for.
type getOptions struct {
	ref    resource.Ref // Name empty: every object of the kind
	output string
}

func newGetCommand(g *globals) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "get KIND [NAME]",
		Short: "List objects of a kind, or show one",
		Long: `Get lists the objects of a kind as a table, or prints them as YAML or JSON
manifests that apply reads back. KIND is a kind's name, plural or short
alias: pops, services (svc), origins, zones, records.`,
		Example: `  anyctl get pops
  anyctl get svc edge-dns -o yaml
  anyctl get records -o json`,
		Args:              rangeArgs(1, 2),
		ValidArgsFunction: completeKindAndName(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := parseGetArgs(args, output)
			if err != nil {
				return err
			}
			return callAdmin(cmd.Context(), g, func(ctx context.Context, c *adminClient) error {
				return runGet(ctx, c, opts, g.stdout, g.stderr)
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", outputTable, "output format: table, yaml, json or name")
	return cmd
}

// parseGetArgs maps get's arguments and flags to what to fetch and show.
func parseGetArgs(args []string, output string) (getOptions, error) {
	format, err := parseOutput(output)
	if err != nil {
		return getOptions{}, err
	}
	name := ""
	if len(args) > 1 {
		name = args[1]
	}
	ref, err := refArg(args[0], name)
	if err != nil {
		return getOptions{}, err
	}
	return getOptions{ref: ref, output: format}, nil
}

// runGet fetches what get was asked for and prints it; it runs inside
// callAdmin.
func runGet(ctx context.Context, c *adminClient, opts getOptions, stdout, stderr io.Writer) error {
	objs, err := fetchObjects(ctx, c, opts.ref)
	if err != nil {
		return err
	}
	if opts.output != outputTable {
		return writeObjects(stdout, objs, opts.output, opts.ref.Name != "")
	}
	if len(objs) == 0 {
		_, err := fmt.Fprintf(stderr, "no %s found\n", resource.KindPlural(opts.ref.Kind))
		return err
	}
	var zones map[string]*v1.GslbZoneSpec
	if opts.ref.Kind == v1.Kind_KIND_GSLB_RECORD {
		zones = fetchZones(ctx, c)
	}
	return writeTable(stdout, opts.ref.Kind, objs, zones)
}

// fetchObjects gets one object, or lists the kind when ref has no name.
// It runs inside callAdmin, which explains its error.
func fetchObjects(ctx context.Context, c *adminClient, ref resource.Ref) ([]*v1.Object, error) {
	if ref.Name != "" {
		resp, err := c.Get(ctx, &v1.GetRequest{Kind: ref.Kind, Name: ref.Name})
		if err != nil {
			return nil, err
		}
		return []*v1.Object{resp.GetObject()}, nil
	}
	return listObjects(ctx, c, ref.Kind)
}

// listObjects lists every object of a kind (every kind for
// KIND_UNSPECIFIED), page by page: a list may be far larger than one
// message. Every page is read at the revision of the first.
func listObjects(ctx context.Context, c v1.AdminServiceClient, kind v1.Kind) ([]*v1.Object, error) {
	var objs []*v1.Object
	token := ""
	for {
		resp, err := c.List(ctx, &v1.ListRequest{Kind: kind, PageToken: token})
		if err != nil {
			return nil, err
		}
		objs = append(objs, resp.GetObjects()...)
		if token = resp.GetNextPageToken(); token == "" {
			return objs, nil
		}
	}
}

// fetchZones maps zone object names to their specs, so that the records
// table can show absolute names and effective TTLs. Without them the table
// still prints, with the names as written.
func fetchZones(ctx context.Context, c *adminClient) map[string]*v1.GslbZoneSpec {
	objs, err := fetchObjects(ctx, c, resource.Ref{Kind: v1.Kind_KIND_GSLB_ZONE})
	if err != nil {
		return nil
	}
	zones := map[string]*v1.GslbZoneSpec{}
	for _, o := range objs {
		zones[resource.Meta(o).GetName()] = o.GetGslbZone().GetSpec()
	}
	return zones
}
