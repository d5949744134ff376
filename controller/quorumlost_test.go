package controller_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestEtcdGoneFailsFast stops the etcd under a running controller: reads
// and writes must fail within seconds with Unavailable saying etcd has lost
// quorum, not wait out the caller's deadline.
func TestEtcdGoneFailsFast(t *testing.T) {
	if os.Getenv("ANYCTL_QUORUM_TEST") == "" {
		t.Skip("a controller whose etcd is gone can take over a minute to stop (a known gap), which overruns the test's stop; set ANYCTL_QUORUM_TEST=1 to run it")
	}
	dir := filepath.Join(t.TempDir(), "etcd")
	srv := etcdembedtest.StartServer(t, dir)
	r := controllertest.StartAt(t, "", func(c *controller.Config) { c.EtcdEndpoints = srv.Endpoints() })
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	// A controller whose etcd is gone does not stop promptly (a known
	// gap): etcd comes back, on the ports its data dir keeps, before the
	// test's cleanup stops the controller.
	defer etcdembedtest.StartServer(t, dir)
	for _, c := range []struct {
		desc string
		code codes.Code
		call func(context.Context) error
	}{
		{"get", codes.Unavailable, func(ctx context.Context) error {
			_, err := r.Admin.Get(ctx, &v1.GetRequest{Kind: v1.Kind_KIND_POP, Name: "tokyo"})
			return err
		}},
		{"list", codes.Unavailable, func(ctx context.Context) error {
			_, err := r.Admin.List(ctx, &v1.ListRequest{Kind: v1.Kind_KIND_POP})
			return err
		}},
		{"delete", codes.FailedPrecondition, func(ctx context.Context) error {
			_, err := r.Admin.Delete(ctx, &v1.DeleteRequest{Kind: v1.Kind_KIND_POP, Name: "tokyo"})
			return err
		}},
	} {
		t.Run(c.desc, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			start := time.Now()
			err := c.call(ctx)
			took := time.Since(start)
			if status.Code(err) != c.code || !strings.Contains(status.Convert(err).Message(), "etcd has lost quorum") {
				t.Errorf("after %s: %v; want %v saying etcd has lost quorum", took.Round(time.Millisecond), err, c.code)
			}
			if took > 10*time.Second {
				t.Errorf("took %s; want it to fail within the %s read timeout and a little", took.Round(time.Millisecond), 5*time.Second)
			}
		})
	}
}
