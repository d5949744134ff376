package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/cli"
	"github.com/anyctl/anyctl/controller/controllertest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/proto"
)

// examplesDir is the example deployment, relative to this package.
const examplesDir = "../deploy/examples"

// callTimeout bounds each Admin API call a test makes directly.
const callTimeout = 30 * time.Second

// run is one anyctl invocation and what it printed.
type run struct {
	code           int
	stdout, stderr string
}

// anyctl runs the real command line against the controller at addr, with
// stdin as its standard input.
func anyctl(t *testing.T, addr string, stdin string, args ...string) run {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Main(append([]string{"--server", addr}, args...), strings.NewReader(stdin), &out, &errOut)
	return run{code: code, stdout: out.String(), stderr: errOut.String()}
}

// mustAnyctl runs anyctl and fails the test unless it exits 0.
func mustAnyctl(t *testing.T, addr string, stdin string, args ...string) run {
	t.Helper()
	r := anyctl(t, addr, stdin, args...)
	if r.code != cli.ExitOK {
		t.Fatalf("anyctl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// startWithExamples runs a controller holding the example deployment.
func startWithExamples(t *testing.T) *controllertest.Running {
	t.Helper()
	c := controllertest.Start(t)
	mustAnyctl(t, c.Addr, "", "apply", "-f", examplesDir)
	return c
}

// listAll lists every object of every kind, with the revision it was read at.
func listAll(t *testing.T, admin v1.AdminServiceClient) *v1.ListResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	all := &v1.ListResponse{}
	for {
		resp, err := admin.List(ctx, &v1.ListRequest{PageToken: all.GetNextPageToken()})
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		all.Objects = append(all.Objects, resp.GetObjects()...)
		all.Revision, all.NextPageToken = resp.GetRevision(), resp.GetNextPageToken()
		if all.NextPageToken == "" {
			return all
		}
	}
}

// requireSameState fails the test unless after holds the same objects,
// versions included, at the same revision as before.
func requireSameState(t *testing.T, before, after *v1.ListResponse) {
	t.Helper()
	if after.GetRevision() != before.GetRevision() {
		t.Errorf("revision moved from %d to %d", before.GetRevision(), after.GetRevision())
	}
	was := byRef(before.GetObjects())
	now := byRef(after.GetObjects())
	for ref, o := range was {
		n, ok := now[ref]
		switch {
		case !ok:
			t.Errorf("%s is gone", ref)
		case !proto.Equal(o, n):
			t.Errorf("%s changed (resource version %d to %d, create revision %d to %d):\n%s", ref,
				resource.Meta(o).GetResourceVersion(), resource.Meta(n).GetResourceVersion(),
				resource.Meta(o).GetCreateRevision(), resource.Meta(n).GetCreateRevision(),
				resource.Diff(o, n))
		}
	}
	for ref := range now {
		if _, ok := was[ref]; !ok {
			t.Errorf("%s appeared", ref)
		}
	}
}

// byRef indexes objects by kind and name.
func byRef(objs []*v1.Object) map[resource.Ref]*v1.Object {
	m := make(map[resource.Ref]*v1.Object, len(objs))
	for _, o := range objs {
		m[resource.RefOf(o)] = o
	}
	return m
}

// nonEmptyLines splits output into its non-blank lines.
func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
