package controller_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestListPages lists in pages of 7: the pages together are the whole
// list in order, every page is read at the first page's revision (a write
// between pages does not show), and a bad token or page size is refused.
func TestListPages(t *testing.T) {
	r := startFleet(t)
	ctx := context.Background()
	var docs strings.Builder
	for i := range 30 {
		fmt.Fprintf(&docs, "---\napiVersion: anycast.anyctl.io/v1\nkind: Origin\nmetadata: {name: o%02d}\nspec: {location: {latitude: 1, longitude: 2, country: US, continent: NA, region: americas}, addresses: [203.0.113.77], weight: 1}\n", i)
	}
	apply := func(y string) {
		t.Helper()
		objs, err := manifest.Decode(strings.NewReader(y), "origins.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs}); err != nil {
			t.Fatal(err)
		}
	}
	apply(docs.String())
	names := func(objs []*v1.Object) []string {
		var out []string
		for _, o := range objs {
			out = append(out, resource.RefOf(o).String())
		}
		return out
	}

	for _, kind := range []v1.Kind{v1.Kind_KIND_UNSPECIFIED, v1.Kind_KIND_ORIGIN} {
		t.Run(fmt.Sprint(kind), func(t *testing.T) {
			whole, err := r.Admin.List(ctx, &v1.ListRequest{Kind: kind})
			if err != nil || whole.GetNextPageToken() != "" {
				t.Fatalf("list in one page: token %q, %v", whole.GetNextPageToken(), err)
			}
			var got []*v1.Object
			token, pages := "", 0
			for {
				resp, err := r.Admin.List(ctx, &v1.ListRequest{Kind: kind, PageSize: 7, PageToken: token})
				if err != nil {
					t.Fatal(err)
				}
				if len(resp.GetObjects()) > 7 {
					t.Fatalf("page %d holds %d objects, want at most 7", pages, len(resp.GetObjects()))
				}
				if resp.GetRevision() != whole.GetRevision() {
					t.Errorf("page %d read at revision %d, want %d", pages, resp.GetRevision(), whole.GetRevision())
				}
				if pages == 0 {
					// A write between pages must not show in the later ones.
					apply(strings.ReplaceAll(strings.Split(docs.String(), "---\n")[1], "o00", fmt.Sprintf("late-%d", kind)))
				}
				got = append(got, resp.GetObjects()...)
				pages++
				if token = resp.GetNextPageToken(); token == "" {
					break
				}
			}
			if !slices.Equal(names(got), names(whole.GetObjects())) {
				t.Errorf("pages hold\n%q\nwant\n%q", names(got), names(whole.GetObjects()))
			}
			t.Logf("%d objects in %d pages", len(got), pages)
		})
	}

	for _, tc := range []struct {
		req  *v1.ListRequest
		want string
	}{
		{&v1.ListRequest{PageToken: "garbage"}, `list: page token "garbage" is not a next_page_token this controller gave`},
		{&v1.ListRequest{Kind: v1.Kind_KIND_POP, PageToken: "5:origins/o03"}, `list: page token is not one of a list of`},
		{&v1.ListRequest{PageSize: -1}, `list: page_size -1: must not be negative (0 for the default of 1000)`},
	} {
		_, err := r.Admin.List(ctx, tc.req)
		if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.HasPrefix(st.Message(), tc.want) {
			t.Errorf("List(%v): %v %q, want InvalidArgument %q", tc.req, st.Code(), st.Message(), tc.want)
		}
	}
}
