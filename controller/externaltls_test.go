package controller_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/authn/authntest"
	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdcluster"
	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// TestExternalEtcdTLSAuth runs a controller on a three-member etcd cluster
// (separate processes) that requires TLS client certificates and etcd
// auth, as the controller's user whose role may use the controller's
// prefix only: the controller serves and its writes land in etcd. A wrong
// password is refused at start with etcd's reason.
func TestExternalEtcdTLSAuth(t *testing.T) {
	cl := etcdcluster.Start(t, etcdcluster.Options{TLS: true, Auth: true})
	r := controllertest.StartAt(t, "", func(c *controller.Config) {
		c.EtcdEndpoints = cl.Endpoints()
		c.EtcdCA, c.EtcdCert, c.EtcdKey = cl.CAFile, cl.CertFile, cl.KeyFile
		c.EtcdUsername, c.EtcdPasswordFile = cl.Username, cl.PasswordFile
	})
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
	resp, err := cl.Client().Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 {
		t.Fatalf("etcd holds %d keys %q after the apply, want 1", len(resp.Kvs), key)
	}

	wrong := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrong, []byte("not-the-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := controller.New(controller.Config{
		Listen: "127.0.0.1:0", EtcdEndpoints: cl.Endpoints(),
		EtcdCA: cl.CAFile, EtcdCert: cl.CertFile, EtcdKey: cl.KeyFile,
		EtcdUsername: cl.Username, EtcdPasswordFile: wrong,
	})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "authentication failed") || !strings.Contains(err.Error(), "--etcd-endpoints") {
		t.Fatalf("controller with a wrong etcd password: Run = %v; want an error naming --etcd-endpoints and saying authentication failed", err)
	}
}

// TestExternalEtcdClientCertificateRenewed gives the controller an etcd
// client certificate that expires in seconds, renews the files in place,
// and restarts etcd once the first has expired: the controller reconnects
// with the renewed certificate and its writes land.
func TestExternalEtcdClientCertificateRenewed(t *testing.T) {
	cl := etcdcluster.Start(t, etcdcluster.Options{TLS: true, Members: 1})
	short := cl.CA.Issue(t, authntest.Subject{CommonName: "anyctl-controller", NotAfter: time.Now().Add(4 * time.Second)})
	r := controllertest.StartAt(t, "", func(c *controller.Config) {
		c.EtcdEndpoints = cl.Endpoints()
		c.EtcdCA, c.EtcdCert, c.EtcdKey = cl.CAFile, short.Cert, short.Key
	})
	apply := func(name string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		pop := resource.Wrap(&v1.Pop{
			Metadata: &v1.ObjectMeta{Name: name},
			Spec: &v1.PopSpec{
				Location: &v1.Location{Latitude: 51.5, Longitude: -0.1, Country: "GB", Continent: "EU", Region: "emea"},
				LocalAsn: 65001,
				RouterId: "192.0.2.1",
			},
		})
		_, err := r.Admin.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{pop}})
		return err
	}
	if err := apply("london"); err != nil {
		t.Fatal(err)
	}
	expires := authntest.ReadCert(t, short.Cert).NotAfter
	authntest.Rewrite(t, short, cl.CA.Issue(t, authntest.Subject{CommonName: "anyctl-controller"}))
	time.Sleep(time.Until(expires.Add(time.Second))) // not synchronisation: the first certificate must have expired
	cl.Kill(0)
	cl.Restart(0)
	cl.AwaitWritable(30 * time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := apply("paris")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("apply after etcd restarted: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	resp, err := cl.Client().Get(context.Background(), store.Key(resource.Ref{Kind: v1.Kind_KIND_POP, Name: "paris"}))
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("etcd after the apply: %v, %v", resp, err)
	}
}
