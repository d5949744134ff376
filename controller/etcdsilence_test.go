package controller_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestStreamsSayWhenEtcdDoesNotAnswer: a replica cut off from etcd tells
// its DNS servers and agents, on their streams, that it cannot confirm
// (a FeedFreshness that is not confirmed), within seconds, long before
// it ends the streams (the lease's 15 s): a client that waits longer on
// replicas while none confirms holds it to its plain limit.
func TestStreamsSayWhenEtcdDoesNotAnswer(t *testing.T) {
	srv := etcdembedtest.StartServer(t, filepath.Join(t.TempDir(), "etcd"))
	proxy := etcdembedtest.StartCutProxy(t, srv.Endpoints()[0])
	r := controllertest.StartAt(t, "", func(c *controller.Config) {
		c.EtcdEndpoints = []string{proxy.URL()}
		c.FeedConfirmEvery = 200 * time.Millisecond
	})
	r.WaitLeading(t)
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := r.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatal(err)
	}
	feed, err := v1.NewGslbFeedServiceClient(r.Conn).Subscribe(ctx, &v1.SubscribeRequest{ServerName: "ns1"})
	if err != nil {
		t.Fatal(err)
	}
	agent, err := v1.NewAgentServiceClient(r.Conn).Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := agent.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: &v1.AgentHello{Pop: "tokyo", TakesFreshness: true}}}); err != nil {
		t.Fatal(err)
	}
	type said struct {
		stream    string
		confirmed bool
		err       error
	}
	saids := make(chan said, 1024)
	follow := func(name string, recv func() (*v1.FeedFreshness, error)) {
		first := true
		for {
			f, err := recv()
			if err != nil {
				saids <- said{stream: name, err: err}
				return
			}
			if f != nil && !first {
				saids <- said{stream: name, confirmed: f.GetConfirmed()}
			}
			first = first && f == nil
		}
	}
	go follow("feed", func() (*v1.FeedFreshness, error) { m, err := feed.Recv(); return m.GetFreshness(), err })
	go follow("agent", func() (*v1.FeedFreshness, error) { m, err := agent.Recv(); return m.GetFreshness(), err })
	next := func(within time.Duration) said {
		t.Helper()
		select {
		case s := <-saids:
			if s.err != nil {
				t.Fatalf("%s stream: %v", s.stream, s.err)
			}
			return s
		case <-time.After(within):
			t.Fatalf("nothing on the streams within %s", within)
		}
		return said{}
	}
	// Both streams get confirmations, and nothing else, while etcd
	// answers.
	confirms := map[string]int{}
	for confirms["feed"] < 3 || confirms["agent"] < 3 {
		s := next(30 * time.Second)
		if !s.confirmed {
			t.Fatalf("the %s stream was told the replica cannot confirm while etcd answers", s.stream)
		}
		confirms[s.stream]++
	}

	proxy.Partition()
	cut := time.Now()
	told := map[string]time.Duration{}
	for len(told) < 2 {
		if s := next(20 * time.Second); !s.confirmed && told[s.stream] == 0 {
			told[s.stream] = time.Since(cut)
		}
	}
	for name, after := range told {
		t.Logf("the %s stream was told %s after the cut", name, after.Round(time.Millisecond))
		// etcd's silence for 2 s, then a probe's turn.
		if after > 6*time.Second {
			t.Errorf("the %s stream was told the replica cannot confirm %s after it was cut off from etcd; want within 6 s", name, after.Round(time.Millisecond))
		}
	}
}
