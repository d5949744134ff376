package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// checkErr compares an error with the one wanted, and whether it makes
// anyctl exit with ExitUsage.
func checkErr(t *testing.T, err error, want string, wantUsage bool) {
	t.Helper()
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant %s", err, want)
	}
	if isUsage := errors.As(err, new(usageError)); isUsage != wantUsage {
		t.Errorf("error %q is a usage error: %v, want %v", err, isUsage, wantUsage)
	}
}

func TestParseGetArgs(t *testing.T) {
	tests := []struct {
		args    []string
		output  string
		want    getOptions
		wantErr string
	}{
		{args: []string{"pops"}, output: "table", want: getOptions{resource.Ref{Kind: v1.Kind_KIND_POP}, outputTable}},
		{args: []string{"svc", "edge-dns"}, output: "yaml", want: getOptions{resource.Ref{Kind: v1.Kind_KIND_ANYCAST_SERVICE, Name: "edge-dns"}, outputYAML}},
		{args: []string{"GslbRecord", "accounts"}, output: "json", want: getOptions{resource.Ref{Kind: v1.Kind_KIND_GSLB_RECORD, Name: "accounts"}, outputJSON}},
		{args: []string{"zones"}, output: "name", want: getOptions{resource.Ref{Kind: v1.Kind_KIND_GSLB_ZONE}, outputName}},
		{args: []string{"origin"}, output: "table", want: getOptions{resource.Ref{Kind: v1.Kind_KIND_ORIGIN}, outputTable}},
		{args: []string{"pods"}, output: "table", wantErr: `unknown kind "pods": want one of anycastservices, gslbrecords, gslbzones, origins, pops`},
		{args: []string{"pops"}, output: "xml", wantErr: `-o "xml": want one of table, yaml, json, name`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " ")+" -o "+tt.output, func(t *testing.T) {
			got, err := parseGetArgs(tt.args, tt.output)
			if tt.wantErr != "" {
				checkErr(t, err, tt.wantErr, true)
				return
			}
			if err != nil {
				t.Fatalf("parseGetArgs: %v", err)
			}
			if got != tt.want {
				t.Errorf("parseGetArgs = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDeleteRequest(t *testing.T) {
	tests := []struct {
		args    []string
		version int64
		want    *v1.DeleteRequest
		wantErr string
	}{
		{args: []string{"pop", "tokyo"}, want: &v1.DeleteRequest{Kind: v1.Kind_KIND_POP, Name: "tokyo"}},
		{args: []string{"records", "accounts"}, version: 42, want: &v1.DeleteRequest{Kind: v1.Kind_KIND_GSLB_RECORD, Name: "accounts", ResourceVersion: 42}},
		{args: []string{"pop", "tokyo"}, version: -1, wantErr: "--resource-version -1: want a version from get, or 0 for any"},
		{args: []string{"router", "r1"}, wantErr: `unknown kind "router": want one of anycastservices, gslbrecords, gslbzones, origins, pops`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got, err := deleteRequest(tt.args, tt.version)
			if tt.wantErr != "" {
				checkErr(t, err, tt.wantErr, true)
				return
			}
			if err != nil {
				t.Fatalf("deleteRequest: %v", err)
			}
			if !proto.Equal(got, tt.want) {
				t.Errorf("deleteRequest = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestApplyRequest(t *testing.T) {
	dir := t.TempDir()
	pop := "apiVersion: anycast.anyctl.io/v1\nkind: Pop\nmetadata: {name: tokyo}\nspec: {localAsn: 64512}\n"
	popFile := filepath.Join(dir, "pop.yaml")
	if err := os.WriteFile(popFile, []byte(pop), 0o644); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(emptyFile, []byte("# nothing yet\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tokyo := resource.Wrap(&v1.Pop{Metadata: &v1.ObjectMeta{Name: "tokyo"}, Spec: &v1.PopSpec{LocalAsn: 64512}})
	origin := resource.Wrap(&v1.Origin{Metadata: &v1.ObjectMeta{Name: "o"}})
	tests := []struct {
		name      string
		opts      applyOptions
		stdin     string
		want      *v1.ApplyRequest
		wantErr   string
		wantUsage bool
	}{
		{name: "file", opts: applyOptions{files: []string{popFile}},
			want: &v1.ApplyRequest{Objects: []*v1.Object{tokyo}}},
		{name: "dry run from stdin and a file", opts: applyOptions{files: []string{"-", popFile}, dryRun: true},
			stdin: "apiVersion: anycast.anyctl.io/v1\nkind: Origin\nmetadata: {name: o}\n",
			want:  &v1.ApplyRequest{Objects: []*v1.Object{origin, tokyo}, DryRun: true}},
		{name: "no -f", wantErr: "apply needs at least one -f FILE, DIR or - for stdin", wantUsage: true},
		{name: "nothing in the files", opts: applyOptions{files: []string{emptyFile}},
			wantErr: "no objects in " + emptyFile},
		{name: "bad manifest", opts: applyOptions{files: []string{"-"}}, stdin: "kind: Pop\n",
			wantErr: `<stdin>:1: document 1: apiVersion: required: want "anycast.anyctl.io/v1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := applyRequest(tt.opts, strings.NewReader(tt.stdin))
			if tt.wantErr != "" {
				checkErr(t, err, tt.wantErr, tt.wantUsage)
				return
			}
			if err != nil {
				t.Fatalf("applyRequest: %v", err)
			}
			if !proto.Equal(got, tt.want) {
				t.Errorf("applyRequest = %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestDrainRequest(t *testing.T) {
	const rule = "must be between 1s and 1h0m0s (leave it out for the controller's --drain-period)"
	tests := []struct {
		period  time.Duration
		given   bool
		want    *v1.DrainRequest
		wantErr string
	}{
		{given: false, want: &v1.DrainRequest{Pop: "london"}},
		{period: time.Second, given: true, want: &v1.DrainRequest{Pop: "london", DrainPeriod: durationpb.New(time.Second)}},
		{period: time.Hour, given: true, want: &v1.DrainRequest{Pop: "london", DrainPeriod: durationpb.New(time.Hour)}},
		{period: 0, given: true, wantErr: `--period "0s": ` + rule},
		{period: -5 * time.Second, given: true, wantErr: `--period "-5s": ` + rule},
		{period: time.Nanosecond, given: true, wantErr: `--period "1ns": ` + rule},
		{period: time.Hour + time.Second, given: true, wantErr: `--period "1h0m1s": ` + rule},
	}
	for _, tt := range tests {
		got, err := drainRequest("london", false, tt.period, tt.given)
		if tt.wantErr != "" {
			checkErr(t, err, tt.wantErr, true)
			continue
		}
		if err != nil || !proto.Equal(got, tt.want) {
			t.Errorf("drainRequest(%v, given %v) = %v, %v; want %v", tt.period, tt.given, got, err, tt.want)
		}
	}
}
