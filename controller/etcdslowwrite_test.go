package controller_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller/controllertest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// wantRefused fails t unless err refuses a write with FailedPrecondition
// and a message containing want.
func wantRefused(t *testing.T, what string, err error, want string) {
	t.Helper()
	if st := status.Convert(err); st.Code() != codes.FailedPrecondition || !strings.Contains(st.Message(), want) {
		t.Fatalf("%s: %v; want FailedPrecondition containing %q", what, err, want)
	}
}

// TestWritesGoThroughSlowEtcd: an etcd that keeps quorum but answers
// every request in 2.5 s (a slow disk, an overloaded member) carries out
// an apply and a drain made through the Admin API, late, instead of
// having them refused as if it had lost quorum.
func TestWritesGoThroughSlowEtcd(t *testing.T) {
	r, proxy := controllertest.StartBehindProxy(t)
	awaitEtcdAnswerMetrics(t, r, "answering promptly", func(m map[string]float64) bool {
		return m["anyctl_controller_etcd_probe_duration_seconds_count"] > 0 &&
			m["anyctl_controller_etcd_probe_last_duration_seconds"] < 1
	})
	proxy.Delay(1250 * time.Millisecond)
	awaitEtcdAnswerMetrics(t, r, "answering in 2.5 s", func(m map[string]float64) bool {
		return m["anyctl_controller_etcd_probe_last_duration_seconds"] >= 2.4 &&
			m["anyctl_controller_etcd_silent"] == 0
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	start := time.Now()
	if _, err := r.Admin.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{testPop("london")}}); err != nil {
		t.Fatalf("apply through an etcd answering in 2.5 s: %v; want it carried out", err)
	}
	t.Logf("apply through an etcd answering in 2.5 s took %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	resp, err := r.Admin.Drain(ctx, &v1.DrainRequest{Pop: "london", Force: true})
	if err != nil {
		t.Fatalf("drain through an etcd answering in 2.5 s: %v; want it carried out", err)
	}
	t.Logf("drain through an etcd answering in 2.5 s took %s", time.Since(start).Round(time.Millisecond))
	if resp.GetState().GetStep() == v1.DrainStep_DRAIN_STEP_UNSPECIFIED {
		t.Errorf("drain answered %v; want the step it started", resp.GetState())
	}

	proxy.Delay(0)
	if _, err := r.Admin.Get(ctx, &v1.GetRequest{Kind: v1.Kind_KIND_POP, Name: "london"}); err != nil {
		t.Fatalf("get pop london after its apply through the slow etcd: %v", err)
	}
	// The leader walks the stored drain through its steps meanwhile: an
	// undrain that meets a step is told to try again.
	for {
		_, err := r.Admin.Undrain(ctx, &v1.UndrainRequest{Pop: "london"})
		if err == nil {
			break
		}
		if status.Code(err) != codes.Aborted || ctx.Err() != nil {
			t.Fatalf("undrain of london after its drain through the slow etcd: %v; want the drain stored, and undone", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestWritesRefusedWhileEtcdIsCutOff: cut off from etcd, a replica
// refuses a write within the read's bound, and at once once it knows etcd
// silent, saying that nothing was written; after the cut heals, nothing
// of either write is stored.
func TestWritesRefusedWhileEtcdIsCutOff(t *testing.T) {
	r, proxy := controllertest.StartBehindProxy(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := r.Admin.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{testPop("london")}}); err != nil {
		t.Fatal(err)
	}
	awaitEtcdAnswerMetrics(t, r, "answering", func(m map[string]float64) bool {
		return m["anyctl_controller_etcd_probe_duration_seconds_count"] > 0 &&
			m["anyctl_controller_etcd_silent"] == 0
	})

	proxy.Partition()
	start := time.Now()
	_, err := r.Admin.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{testPop("paris")}})
	took := time.Since(start)
	t.Logf("apply just after the cut refused after %s: %v", took.Round(time.Millisecond), err)
	wantRefused(t, "apply just after the cut", err, "apply refused, nothing was written: etcd has lost quorum")
	if took > 7*time.Second {
		t.Errorf("apply just after the cut refused after %s; want within the 5 s read and a little", took.Round(time.Millisecond))
	}
	awaitEtcdAnswerMetrics(t, r, "silent", func(m map[string]float64) bool {
		return m["anyctl_controller_etcd_silent"] == 1
	})
	start = time.Now()
	_, err = r.Admin.Drain(ctx, &v1.DrainRequest{Pop: "london", Force: true})
	took = time.Since(start)
	t.Logf("drain with etcd silent refused after %s: %v", took.Round(time.Millisecond), err)
	wantRefused(t, "drain with etcd silent", err, "drain refused, nothing was written: etcd has lost quorum: no answer to this replica for ")
	if took > time.Second {
		t.Errorf("drain with etcd silent refused after %s; want at once", took.Round(time.Millisecond))
	}

	proxy.Heal()
	awaitEtcdAnswerMetrics(t, r, "answering again", func(m map[string]float64) bool {
		return m["anyctl_controller_etcd_silent"] == 0
	})
	if _, err := r.Admin.Get(ctx, &v1.GetRequest{Kind: v1.Kind_KIND_POP, Name: "paris"}); status.Code(err) != codes.NotFound {
		t.Errorf("after its refused apply, get pop paris: %v; want NotFound", err)
	}
	_, err = r.Admin.Undrain(ctx, &v1.UndrainRequest{Pop: "london"})
	wantRefused(t, "undrain of london after its refused drain", err, "is not drained")
}

// TestWriteRefusedBySlowEtcdSaysSo: an etcd that answers, but in 5.2 s,
// later than a write's check waits, has the write refused with what
// happened: no answer in time from an etcd that answers slowly, not a
// lost quorum. Nothing is written.
func TestWriteRefusedBySlowEtcdSaysSo(t *testing.T) {
	r, proxy := controllertest.StartBehindProxy(t)
	proxy.Delay(2600 * time.Millisecond)
	awaitEtcdAnswerMetrics(t, r, "answering in 5.2 s", func(m map[string]float64) bool {
		return m["anyctl_controller_etcd_probe_last_duration_seconds"] >= 5 &&
			m["anyctl_controller_etcd_silent"] == 0
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	_, err := r.Admin.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{testPop("paris")}})
	took := time.Since(start)
	t.Logf("apply through an etcd answering in 5.2 s refused after %s: %v", took.Round(time.Millisecond), err)
	wantRefused(t, "apply through an etcd answering in 5.2 s", err, "apply refused, nothing was written: etcd did not answer within 5s; it answers, but slowly (its last answer to this replica came ")
	if strings.Contains(err.Error(), "quorum") {
		t.Errorf("apply through a slow etcd refused saying it lost quorum: %v", err)
	}

	proxy.Delay(0)
	awaitEtcdAnswerMetrics(t, r, "answering promptly again", func(m map[string]float64) bool {
		return m["anyctl_controller_etcd_probe_last_duration_seconds"] < 1
	})
	if _, err := r.Admin.Get(ctx, &v1.GetRequest{Kind: v1.Kind_KIND_POP, Name: "paris"}); status.Code(err) != codes.NotFound {
		t.Errorf("after its refused apply, get pop paris: %v; want NotFound", err)
	}
}
