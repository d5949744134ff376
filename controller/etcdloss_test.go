package controller_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestReplicaWithoutEtcdEndsStreams: a replica that cannot reach etcd ends
// its DNS feed streams and refuses new ones with Unavailable naming the
// cause, so that their clients move to a replica that reaches it; once
// etcd is back it serves them again.
func TestReplicaWithoutEtcdEndsStreams(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etcd")
	srv := etcdembedtest.StartServer(t, dir)
	r := controllertest.StartAt(t, "", func(c *controller.Config) {
		c.EtcdEndpoints = srv.Endpoints()
		c.EtcdLossGrace = time.Second
	})
	feed := v1.NewGslbFeedServiceClient(r.Conn)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stream, err := feed.Subscribe(ctx, &v1.SubscribeRequest{ServerName: "ns1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatalf("first snapshot: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	const want = "this controller replica cannot reach etcd (etcd has lost quorum"
	for err == nil { // past the confirmations made before etcd went
		_, err = stream.Recv()
	}
	if st := status.Convert(err); st.Code() != codes.Unavailable || !strings.Contains(st.Message(), want) {
		t.Fatalf("the feed stream ended with %v; want Unavailable containing %q", err, want)
	}
	again, err := feed.Subscribe(ctx, &v1.SubscribeRequest{ServerName: "ns1"})
	if err == nil {
		_, err = again.Recv()
	}
	if st := status.Convert(err); st.Code() != codes.Unavailable || !strings.Contains(st.Message(), want) {
		t.Fatalf("a new subscription got %v; want Unavailable containing %q", err, want)
	}

	st, err := r.Admin.Status(ctx, &v1.StatusRequest{})
	if err != nil || !strings.HasPrefix(st.GetController().GetDegraded(), "cannot reach etcd (etcd has lost quorum") {
		t.Fatalf("status without etcd: controller %v, %v; want it degraded, saying it cannot reach etcd", st.GetController(), err)
	}
	// A write is refused within seconds, sure that nothing was written.
	start := time.Now()
	_, err = r.Admin.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{testPop("london")}})
	took := time.Since(start)
	const wantWrite = "apply refused, nothing was written: etcd has lost quorum"
	if st := status.Convert(err); st.Code() != codes.FailedPrecondition || !strings.Contains(st.Message(), wantWrite) {
		t.Fatalf("apply without etcd: %v; want FailedPrecondition containing %q", err, wantWrite)
	}
	if took > 4*time.Second {
		t.Errorf("apply without etcd failed after %s; want within the %s check and a little", took, 2*time.Second)
	}

	etcdembedtest.StartServer(t, dir) // on the ports its data dir keeps
	for {
		s, err := feed.Subscribe(ctx, &v1.SubscribeRequest{ServerName: "ns1"})
		if err == nil {
			if _, err = s.Recv(); err == nil {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("etcd is back but the replica still refuses the feed: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for {
		st, err := r.Admin.Status(ctx, &v1.StatusRequest{})
		if err == nil && st.GetController().GetDegraded() == "" && st.GetController().GetLeader() {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("status with etcd back: controller %v, %v; want it healthy and leading again", st.GetController(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := r.Admin.Get(ctx, &v1.GetRequest{Kind: v1.Kind_KIND_POP, Name: "london"}); status.Code(err) != codes.NotFound {
		t.Errorf("after the refused apply, get pop london: %v; want NotFound", err)
	}
	r.Stop(t) // while etcd is up
}

func testPop(name string) *v1.Object {
	return resource.Wrap(&v1.Pop{
		Metadata: &v1.ObjectMeta{Name: name},
		Spec: &v1.PopSpec{
			Location: &v1.Location{Latitude: 51.5, Longitude: -0.1, Country: "GB", Continent: "EU", Region: "emea"},
			LocalAsn: 65001,
			RouterId: "192.0.2.1",
		},
	})
}
