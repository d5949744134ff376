package controller_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// TestStatusShowsAReplicaThatStoppedConfirming: a replica confirms its
// state to its DNS servers every interval; cut off from etcd it stops at
// once, well before it ends their streams, and its status says so, of
// itself and of each DNS server streaming from it.
func TestStatusShowsAReplicaThatStoppedConfirming(t *testing.T) {
	srv := etcdembedtest.StartServer(t, filepath.Join(t.TempDir(), "etcd"))
	r := controllertest.StartAt(t, "", func(c *controller.Config) {
		c.EtcdEndpoints = srv.Endpoints()
		c.FeedConfirmEvery = 200 * time.Millisecond
		c.EtcdLossGrace = 10 * time.Second // etcd's own degraded message waits
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stream, err := v1.NewGslbFeedServiceClient(r.Conn).Subscribe(ctx, &v1.SubscribeRequest{ServerName: "ns1"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if first.GetSnapshot() == nil || first.GetFreshness().GetInterval().AsDuration() != 200*time.Millisecond {
		t.Fatalf("first response: snapshot %v, freshness %v; want a snapshot and the replica's interval", first.GetSnapshot() != nil, first.GetFreshness())
	}
	var prev time.Time
	for n := 0; n < 3; {
		m, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if f := m.GetFreshness(); f.GetConfirmed() {
			at := f.GetConfirmedAt().AsTime()
			if !at.After(prev) || f.GetRevision() == 0 || f.GetAge().AsDuration() > time.Second {
				t.Fatalf("confirmation %d: %v after %v", n, f, prev)
			}
			prev = at
			n++
		}
	}
	status := func() *v1.StatusResponse {
		t.Helper()
		st, err := r.Admin.Status(ctx, &v1.StatusRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	age := func() float64 {
		t.Helper()
		body := scrape(t, "http://"+r.Ctrl.MetricsAddr().String()+"/metrics")
		const name = "anyctl_controller_state_confirmed_age_seconds "
		for _, l := range strings.Split(body, "\n") {
			if v, ok := strings.CutPrefix(l, name); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatal(err)
				}
				return f
			}
		}
		t.Fatalf("no %s in the metrics", name)
		return 0
	}
	if a := age(); a > 1 {
		t.Errorf("anyctl_controller_state_confirmed_age_seconds %v while confirming every 200ms", a)
	}
	st := status()
	if len(st.GetDnsServers()) != 1 || st.GetDnsServers()[0].GetUnconfirmed() != "" || st.GetDnsServers()[0].GetConfirmedAt() == nil || st.GetController().GetDegraded() != "" {
		t.Fatalf("status of a confirming replica: controller %v, DNS servers %v", st.GetController(), st.GetDnsServers())
	}

	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	const wantReplica = "its state has not been confirmed current against etcd for "
	const wantServer = "its last confirmation that this replica's state is current for "
	for {
		st = status()
		if len(st.GetDnsServers()) == 1 && strings.HasPrefix(st.GetDnsServers()[0].GetUnconfirmed(), wantServer) &&
			strings.HasPrefix(st.GetController().GetDegraded(), wantReplica) {
			break
		}
		if time.Since(cut) > 8*time.Second {
			t.Fatalf("status %s after etcd went: controller %v, DNS servers %v; want the replica degraded (%q) and the server unconfirmed (%q)",
				time.Since(cut), st.GetController(), st.GetDnsServers(), wantReplica, wantServer)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if a := age(); a < 0.6 {
		t.Errorf("anyctl_controller_state_confirmed_age_seconds %v with etcd gone for %s", a, time.Since(cut))
	}
	t.Logf("status %s after etcd went: %s; ns1: %s", time.Since(cut).Round(time.Millisecond), st.GetController().GetDegraded(), st.GetDnsServers()[0].GetUnconfirmed())
}
