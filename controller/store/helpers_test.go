package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newStore returns a store over a fresh embedded etcd, and its client.
func newStore(t testing.TB) (*Store, *clientv3.Client) {
	t.Helper()
	cli := etcdembedtest.Start(t)
	return New(cli, quietLogger()), cli
}

func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func origin(name string, weight int32) *v1.Object {
	return resource.Wrap(&v1.Origin{
		Metadata: &v1.ObjectMeta{Name: name},
		Spec: &v1.OriginSpec{
			Location:  &v1.Location{Latitude: 50.11, Longitude: 8.68, Country: "DE", Continent: "EU", Region: "emea"},
			Addresses: []string{"192.0.2.10"},
			Weight:    weight,
		},
	})
}

func pop(name string, peerASN uint32) *v1.Object {
	return resource.Wrap(&v1.Pop{
		Metadata: &v1.ObjectMeta{Name: name},
		Spec: &v1.PopSpec{
			Location: &v1.Location{Latitude: 35.68, Longitude: 139.69, Country: "JP", Continent: "AS", Region: "apac"},
			LocalAsn: 65001,
			RouterId: "192.0.2.1",
			Peers:    []*v1.BgpPeer{{Address: "192.0.2.254", PeerAsn: peerASN}},
		},
	})
}

// withVersion returns o carrying a resource-version precondition.
func withVersion(o *v1.Object, rv int64) *v1.Object {
	resource.EnsureMeta(o).ResourceVersion = rv
	return o
}

func mustApply(t testing.TB, s *Store, objs ...*v1.Object) *v1.ApplyResponse {
	t.Helper()
	resp, err := s.Apply(testContext(t), objs, false, nil)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return resp
}

func mustGet(t testing.TB, s *Store, ref resource.Ref) *v1.Object {
	t.Helper()
	o, err := s.Get(testContext(t), ref)
	if err != nil {
		t.Fatalf("get %s: %v", ref, err)
	}
	return o
}

func refOf(kind v1.Kind, name string) resource.Ref { return resource.Ref{Kind: kind, Name: name} }

// dump renders every key in etcd, with versions and values, and the store
// revision: two equal dumps mean nothing was written in between.
func dump(t testing.TB, cli *clientv3.Client) string {
	t.Helper()
	resp, err := cli.Get(testContext(t), "\x00", clientv3.WithFromKey())
	if err != nil {
		t.Fatalf("dump etcd: %v", err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "revision %d\n", resp.Header.Revision)
	for _, kv := range resp.Kvs {
		fmt.Fprintf(&b, "%s create=%d mod=%d version=%d value=%x\n", kv.Key, kv.CreateRevision, kv.ModRevision, kv.Version, kv.Value)
	}
	return b.String()
}

func actions(resp *v1.ApplyResponse) []v1.ApplyAction {
	var out []v1.ApplyAction
	for _, r := range resp.GetResults() {
		out = append(out, r.GetAction())
	}
	return out
}
