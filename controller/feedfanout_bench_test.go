package controller

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anyctl/anyctl/compile"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation/validationtest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// feedFanoutObjects is the desired state operators run GSLB at: 5,000
// records in five zones over 50 origins, and 20 PoPs.
func feedFanoutObjects() []*v1.Object {
	const pops, origins, zones, records = 20, 50, 5, 5000
	var objs []*v1.Object
	for i := range pops {
		objs = append(objs, resource.Wrap(validationtest.Pop(i)))
	}
	for i := range origins {
		objs = append(objs, resource.Wrap(validationtest.Origin(i)))
	}
	for i := range zones {
		objs = append(objs, resource.Wrap(validationtest.Zone(i)))
	}
	for i := range records {
		objs = append(objs, resource.Wrap(validationtest.Record(i, zones, origins)))
	}
	return objs
}

// rawFrame is a received message left encoded: the benchmark's subscribers
// count snapshots without decoding them, so that what is measured is the
// controller's side of the fan-out.
type rawFrame struct{ n int }

// rawCodec encodes requests as protobuf and leaves responses encoded.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, err := proto.Marshal(v.(proto.Message))
	return mem.BufferSlice{mem.SliceBuffer(b)}, err
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	v.(*rawFrame).n = data.Len()
	return nil
}

// BenchmarkFeedHealthChange streams the GSLB snapshot of 5,000 records
// over real gRPC to 50 subscribers and flips one origin's health verdict
// per iteration, waiting until every subscriber has the snapshot that
// follows: the controller's cost of one health change, as CPU time and
// bytes allocated per change (the subscribers do not decode).
func BenchmarkFeedHealthChange(b *testing.B) {
	const subscribers = 50
	h, conn := startFeedFanout(b)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)

	var received [subscribers]atomic.Int64
	var size atomic.Int64
	for i := range subscribers {
		stream, err := conn.NewStream(ctx, &v1.GslbFeedService_ServiceDesc.Streams[0], v1.GslbFeedService_Subscribe_FullMethodName, grpc.ForceCodecV2(rawCodec{}))
		if err != nil {
			b.Fatal(err)
		}
		if err := stream.SendMsg(&v1.SubscribeRequest{ServerName: fmt.Sprintf("ns%d", i)}); err != nil {
			b.Fatal(err)
		}
		if err := stream.CloseSend(); err != nil {
			b.Fatal(err)
		}
		go func() {
			for {
				var m rawFrame
				if err := stream.RecvMsg(&m); err != nil {
					return
				}
				size.Store(int64(m.n))
				received[i].Add(1)
			}
		}()
	}
	awaitAll := func(want int64) {
		deadline := time.Now().Add(time.Minute)
		for i := range received {
			for received[i].Load() < want {
				if time.Now().After(deadline) {
					b.Fatalf("subscriber %d has %d snapshots after a minute, want %d", i, received[i].Load(), want)
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
	awaitAll(1)

	var cpu time.Duration
	var before, after runtime.MemStats
	var allocated uint64
	gen := int64(1)
	for b.Loop() {
		gen++
		runtime.ReadMemStats(&before)
		start := cpuUsed(b)
		h.obs.setHealth(map[string]compile.OriginHealth{validationtest.OriginName(0): {Healthy: gen%2 == 1, Reason: fmt.Sprint("change ", gen)}}, nil)
		awaitAll(gen)
		cpu += cpuUsed(b) - start
		runtime.ReadMemStats(&after)
		allocated += after.TotalAlloc - before.TotalAlloc
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/change")
	b.ReportMetric(float64(allocated)/float64(b.N)/(1<<20), "MiB-allocated/change")
	b.ReportMetric(float64(size.Load())/(1<<20), "MiB/snapshot")
}

// startFeedFanout serves the GSLB feed of feedFanoutObjects over real
// gRPC on loopback, with the controller's codec, and returns the harness
// and a client connection taking snapshots of any size.
func startFeedFanout(b *testing.B) (*harness, *grpc.ClientConn) {
	b.Helper()
	objs := feedFanoutObjects()
	h := newHarness(b)
	for len(objs) > 0 {
		batch := objs[:min(1000, len(objs))]
		objs = objs[len(batch):]
		if _, err := h.st.Apply(context.Background(), batch, false, nil); err != nil {
			b.Fatal(err)
		}
	}
	h.runCache()
	select {
	case <-h.cache.Ready():
	case <-time.After(time.Minute):
		b.Fatal("the desired state did not load")
	}
	stop := make(chan struct{})
	b.Cleanup(func() { close(stop) })
	f := &feedServer{cache: h.cache, observed: h.obs, log: h.log, metrics: h.m, stop: stop}
	gs := grpc.NewServer(newRequestCodec().serverOptions()...)
	v1.RegisterGslbFeedServiceServer(gs, f)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go gs.Serve(lis)
	b.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256<<20)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return h, conn
}

// BenchmarkFeedReconnect has 50 DNS servers holding the current snapshot
// of 5,000 records subscribe again at once, as after a replica restarts,
// per iteration, and reports per wave the bytes sent and the CPU time and
// allocations of the process (the controller, and the subscribers' gRPC
// receive, which does not decode). held=revision says only the revision
// held, as every server did before digests, and is sent the snapshot;
// held=digest says its digest too, and is told that it is current.
func BenchmarkFeedReconnect(b *testing.B) {
	const subscribers = 50
	_, conn := startFeedFanout(b)
	ctx := context.Background()
	first, err := v1.NewGslbFeedServiceClient(conn).Subscribe(ctx, &v1.SubscribeRequest{ServerName: "ns"})
	if err != nil {
		b.Fatal(err)
	}
	m, err := first.Recv()
	if err != nil {
		b.Fatal(err)
	}
	snap := m.GetSnapshot()
	for _, held := range []string{"revision", "digest"} {
		req := &v1.SubscribeRequest{Revision: snap.GetRevision()}
		if held == "digest" {
			req.Digest = snap.GetDigest()
		}
		b.Run("held="+held, func(b *testing.B) {
			var cpu time.Duration
			var before, after runtime.MemStats
			var allocated uint64
			var sent atomic.Int64
			for b.Loop() {
				runtime.ReadMemStats(&before)
				start := cpuUsed(b)
				errs := make(chan error, subscribers)
				for range subscribers {
					go func() {
						sctx, cancel := context.WithCancel(ctx)
						defer cancel()
						stream, err := conn.NewStream(sctx, &v1.GslbFeedService_ServiceDesc.Streams[0], v1.GslbFeedService_Subscribe_FullMethodName, grpc.ForceCodecV2(rawCodec{}))
						if err == nil {
							err = stream.SendMsg(req)
						}
						if err == nil {
							err = stream.CloseSend()
						}
						var m rawFrame
						if err == nil {
							err = stream.RecvMsg(&m)
						}
						sent.Add(int64(m.n))
						errs <- err
					}()
				}
				for range subscribers {
					if err := <-errs; err != nil {
						b.Fatal(err)
					}
				}
				cpu += cpuUsed(b) - start
				runtime.ReadMemStats(&after)
				allocated += after.TotalAlloc - before.TotalAlloc
			}
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/wave")
			b.ReportMetric(float64(allocated)/float64(b.N)/(1<<20), "MiB-allocated/wave")
			b.ReportMetric(float64(sent.Load())/float64(b.N)/1024, "KiB-sent/wave")
		})
	}
}
