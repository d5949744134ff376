package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation"
	"github.com/anyctl/anyctl/validation/validationtest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// scaleHarness is a harness whose etcd holds validationtest.Fleet(n),
// written in batches the embedded etcd's operation limit allows, with the
// state cache, reports and fleet state running and loaded.
func scaleHarness(b *testing.B, n int) *harness {
	b.Helper()
	h := newHarness(b)
	var objs []*v1.Object
	if n > 0 {
		objs = validationtest.Fleet(n)
	}
	for len(objs) > 0 {
		batch := objs[:min(5000, len(objs))]
		objs = objs[len(batch):]
		if _, err := h.st.Apply(context.Background(), batch, false, nil); err != nil {
			b.Fatal(err)
		}
	}
	h.runCache()
	h.run(h.sw.run)
	h.run(h.fleet.run)
	for _, ch := range []<-chan struct{}{h.cache.Ready(), h.sw.Ready(), h.fleet.Ready()} {
		select {
		case <-ch:
		case <-time.After(time.Minute):
			b.Fatal("the harness did not load")
		}
	}
	return h
}

// cpuUsed is the CPU time, user and system, this process has used.
func cpuUsed(b *testing.B) time.Duration {
	t, ok := processCPU()
	if !ok {
		b.Fatal("reading this process's CPU time failed")
	}
	return t
}

// BenchmarkIdleCPU measures the CPU an idle leading controller burns
// holding no objects and 10,000 objects: the process's CPU time (the
// embedded etcd included) over an idle window of 5 s per iteration,
// reported as cpu-%-of-a-core. Each iteration is one window; -benchtime=3x
// gives three.
func BenchmarkIdleCPU(b *testing.B) {
	for _, n := range []int{0, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			h := scaleHarness(b, n)
			h.run(h.leader("a").run)
			awaitLeading(b, h)
			time.Sleep(2 * time.Second) // let the first passes and the start-up settle
			const window = 5 * time.Second
			var used time.Duration
			for b.Loop() {
				start := cpuUsed(b)
				time.Sleep(window)
				used += cpuUsed(b) - start
			}
			b.ReportMetric(100*used.Seconds()/(window.Seconds()*float64(b.N)), "cpu-%-of-a-core")
		})
	}
}

// awaitLeading waits until the harness's leader holds the election.
func awaitLeading(b *testing.B, h *harness) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := h.cli.Get(context.Background(), store.ElectionPrefix, clientv3.WithPrefix())
		if err != nil {
			b.Fatal(err)
		}
		if len(resp.Kvs) > 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatal("no leader after a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkApplyOne applies one changed object (a Pop, its ASN changed
// each time) through the Admin API to a controller holding 10,000 and
// 50,000 objects: validation, the guarded write, and the wait for this
// replica's cache to hold it.
func BenchmarkApplyOne(b *testing.B) {
	for _, n := range []int{10000, 50000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			h := scaleHarness(b, n)
			a := &adminServer{log: h.log, st: h.st, opts: validation.Options{AllowedPrefixes: validation.DefaultAllowedPrefixes()},
				metrics: h.m, cache: h.cache, observed: h.obs, fleet: h.fleet, reports: h.sw}
			ctx := context.Background()
			gen := 0
			var cpu time.Duration
			for b.Loop() {
				gen++
				p := validationtest.Pop(7)
				p.Spec.LocalAsn = 64512 + uint32(gen%1000) + 1
				start := cpuUsed(b)
				resp, err := a.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{resource.Wrap(p)}})
				cpu += cpuUsed(b) - start
				if err != nil {
					b.Fatal(err)
				}
				if got := resp.GetResults()[0].GetAction(); got != v1.ApplyAction_APPLY_ACTION_UPDATED {
					b.Fatalf("apply %d: %v, want UPDATED", gen, got)
				}
			}
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}
