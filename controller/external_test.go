package controller_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// TestExternalEtcd runs a controller on an etcd it did not start
// (--etcd-endpoints): it serves, and what it is given lands in that etcd.
func TestExternalEtcd(t *testing.T) {
	srv := etcdembedtest.StartServer(t, filepath.Join(t.TempDir(), "etcd"))
	r := controllertest.StartAt(t, "", func(c *controller.Config) { c.EtcdEndpoints = srv.Endpoints() })
	pop := resource.Wrap(&v1.Pop{
		Metadata: &v1.ObjectMeta{Name: "london"},
		Spec: &v1.PopSpec{
			Location: &v1.Location{Latitude: 51.5, Longitude: -0.1, Country: "GB", Continent: "EU", Region: "emea"},
			LocalAsn: 65001,
			RouterId: "192.0.2.1",
		},
	})
	ctx := context.Background()
	if _, err := r.Admin.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{pop}}); err != nil {
		t.Fatal(err)
	}
	key := store.Key(resource.Ref{Kind: v1.Kind_KIND_POP, Name: "london"})
	resp, err := etcdembedtest.Client(t, srv).Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 {
		t.Fatalf("the external etcd holds %d keys %q after the apply, want 1", len(resp.Kvs), key)
	}
}
