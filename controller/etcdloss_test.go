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
	_, err = stream.Recv()
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
	r.Stop(t) // while etcd is up
}
