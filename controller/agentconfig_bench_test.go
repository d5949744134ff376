package controller

import (
	"fmt"
	"testing"
	"time"

	"github.com/anyctl/anyctl/compile"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation/validationtest"
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// BenchmarkConfigFanOut is the controller's own work when a service on
// every PoP changes, per agent stream: compile the PoP's config, compare
// it with the last sent, encode the message as gRPC does (the transport's
// cost is not in it). "fleet" is what the streams do; "per-agent" is
// compiling each PoP's config on its own with compile.PopConfig and
// comparing messages, for reference.
func BenchmarkConfigFanOut(b *testing.B) {
	for _, size := range []struct{ pops, services int }{{10000, 10}, {3000, 100}} {
		var objs []*v1.Object
		for i := range size.pops {
			objs = append(objs, resource.Wrap(validationtest.Pop(i)))
		}
		for i := range size.services {
			objs = append(objs, resource.Wrap(validationtest.Service(i)))
		}
		base := resource.NewState(objs...)
		base.Revision = 1
		names := resource.SortedNames(base.Pops)
		codec := encoding.GetCodecV2(protocodec.Name)
		// change returns s with svc-00000 (on every PoP) changed.
		change := func(s *resource.State, i int) *resource.State {
			next := s.Clone()
			svc := validationtest.Service(0)
			svc.Spec.HealthCheck.Interval = durationpb.New(time.Duration(3+i%2) * time.Second)
			next.Put(resource.Wrap(svc))
			next.Revision++
			return next
		}
		send := func(msg *v1.ConnectResponse) {
			data, err := codec.Marshal(msg)
			if err != nil {
				b.Fatal(err)
			}
			data.Free()
		}
		b.Run(fmt.Sprintf("fleet/%dx%d", size.pops, size.services), func(b *testing.B) {
			s, f := base, compile.NewFleet(base, nil)
			streams := make([]*configStream, len(names))
			for i, pop := range names {
				streams[i] = &configStream{pop: pop}
				if _, err := streams[i].next(f, compile.Observed{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				s = change(s, i)
				f = compile.NewFleet(s, f)
				for _, cs := range streams {
					msg, err := cs.next(f, compile.Observed{})
					if err != nil || msg == nil {
						b.Fatalf("%s: %v, %v; want a config to send", cs.pop, msg, err)
					}
					send(msg)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(names)), "ns/agent")
		})
		b.Run(fmt.Sprintf("per-agent/%dx%d", size.pops, size.services), func(b *testing.B) {
			s := base
			last := make([]*v1.PopConfig, len(names))
			for i, pop := range names {
				last[i], _ = compile.PopConfig(s, pop, compile.Observed{})
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				s = change(s, i)
				for j, pop := range names {
					cfg, err := compile.PopConfig(s, pop, compile.Observed{})
					if err != nil {
						b.Fatal(err)
					}
					a, c := proto.Clone(cfg).(*v1.PopConfig), proto.Clone(last[j]).(*v1.PopConfig)
					a.Revision, c.Revision = 0, 0
					if proto.Equal(a, c) {
						b.Fatalf("%s: config unchanged", pop)
					}
					send(&v1.ConnectResponse{Msg: &v1.ConnectResponse_Config{Config: cfg}})
					last[j] = cfg
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(names)), "ns/agent")
		})
	}
}
