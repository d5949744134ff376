package cli_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/anyctl/anyctl/cli"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// conflictRounds is how many times two writers race on one version.
const conflictRounds = 10

// TestE2EConflictingVersions races two edits of one PoP, both made from the
// same read and so carrying the same resource version. Exactly one may
// win; the other must fail with a conflict that names the object and says
// its version is stale. Even rounds race two anyctl runs, odd rounds two
// Admin API calls, whose gRPC code is then visible.
func TestE2EConflictingVersions(t *testing.T) {
	c := startWithExamples(t)
	ref := resource.Ref{Kind: v1.Kind_KIND_POP, Name: "tokyo"}
	for round := range conflictRounds {
		read := getObject(t, c.Admin, ref)
		version := resource.Meta(read).GetResourceVersion()
		edits := [2]*v1.Object{
			describedAs(read, fmt.Sprintf("round %d, edit A", round)),
			describedAs(read, fmt.Sprintf("round %d, edit B", round)),
		}
		var won [2]bool
		var failures [2]string
		if round%2 == 0 {
			runs := raceAnyctl(t, c.Addr, edits)
			for i, r := range runs {
				won[i] = r.code == cli.ExitOK
				if !won[i] {
					failures[i] = fmt.Sprintf("exit %d: %s", r.code, strings.TrimSpace(r.stderr))
				}
			}
		} else {
			errs := raceApply(c.Admin, edits)
			for i, err := range errs {
				won[i] = err == nil
				if err != nil {
					failures[i] = fmt.Sprintf("%s: %s", status.Code(err), status.Convert(err).Message())
				}
			}
		}
		if won[0] == won[1] {
			t.Fatalf("round %d: edit A won %v, edit B won %v; want exactly one winner\nA: %s\nB: %s", round, won[0], won[1], failures[0], failures[1])
		}
		winner, loser := 0, 1
		if won[1] {
			winner, loser = 1, 0
		}
		stored := getObject(t, c.Admin, ref)
		if !resource.Equal(stored, edits[winner]) {
			t.Errorf("round %d: stored tokyo is not the winning edit:\n%s", round, resource.Diff(edits[winner], stored))
		}
		now := resource.Meta(stored).GetResourceVersion()
		conflict := fmt.Sprintf("Pop \"tokyo\": resource version %d is stale: stored version is %d; get the object again and re-apply", version, now)
		want := codes.Aborted.String() + ": " + conflict
		if round%2 == 0 {
			want = fmt.Sprintf("exit %d: anyctl: %s", cli.ExitFailure, conflict)
		}
		if failures[loser] != want {
			t.Errorf("round %d: the losing edit failed with\n%s\nwant\n%s", round, failures[loser], want)
		}
	}
}

// describedAs returns a copy of o with a new description, keeping its
// resource version as the precondition of an apply.
func describedAs(o *v1.Object, description string) *v1.Object {
	c := proto.Clone(o).(*v1.Object)
	resource.Meta(c).Description = description
	return c
}

// raceAnyctl runs one anyctl apply per object at once, each reading its
// object as YAML from standard input.
func raceAnyctl(t *testing.T, addr string, objs [2]*v1.Object) [2]run {
	t.Helper()
	docs := [2]string{asYAML(t, objs[0]), asYAML(t, objs[1])}
	var runs [2]run
	var wg sync.WaitGroup
	for i := range docs {
		wg.Go(func() { runs[i] = anyctl(t, addr, docs[i], "apply", "-f", "-") })
	}
	wg.Wait()
	return runs
}

// raceApply sends one Admin Apply per object at once.
func raceApply(admin v1.AdminServiceClient, objs [2]*v1.Object) [2]error {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	var errs [2]error
	var wg sync.WaitGroup
	for i, o := range objs {
		wg.Go(func() {
			_, errs[i] = admin.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{o}})
		})
	}
	wg.Wait()
	return errs
}

// getObject reads one object through the Admin API.
func getObject(t *testing.T, admin v1.AdminServiceClient, ref resource.Ref) *v1.Object {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	resp, err := admin.Get(ctx, &v1.GetRequest{Kind: ref.Kind, Name: ref.Name})
	if err != nil {
		t.Fatalf("get %s: %v", ref, err)
	}
	return resp.GetObject()
}
