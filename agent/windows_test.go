package agent

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anyctl/anyctl/backoff"
	"github.com/anyctl/anyctl/controlconn"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/deploy/examples"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// pingCounter relays one TCP connection to addr and counts the HTTP/2
// PING frames the client sends that are not answers (flag ACK unset).
type pingCounter struct {
	ln    net.Listener
	pings atomic.Int32
}

func newPingCounter(t *testing.T, addr string) *pingCounter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pingCounter{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		up, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		defer up.Close()
		go io.Copy(c, up)
		p.relay(c, up)
	}()
	return p
}

// relay copies the client's bytes to up frame by frame, counting pings.
func (p *pingCounter) relay(c, up net.Conn) {
	preface := make([]byte, 24) // "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	if _, err := io.ReadFull(c, preface); err != nil {
		return
	}
	if _, err := up.Write(preface); err != nil {
		return
	}
	hdr := make([]byte, 9)
	for {
		if _, err := io.ReadFull(c, hdr); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(append([]byte{0}, hdr[:3]...)))
		const typePing, flagAck = 0x6, 0x1
		if hdr[3] == typePing && hdr[4]&flagAck == 0 {
			p.pings.Add(1)
		}
		frame := slices.Concat(hdr, make([]byte, n))
		if _, err := io.ReadFull(c, frame[9:]); err != nil {
			return
		}
		if _, err := up.Write(frame); err != nil {
			return
		}
	}
}

// TestSessionDoesNotPingPerConfig: an agent's connection has fixed
// flow-control windows, so gRPC does not ping the controller to estimate
// the bandwidth when configs arrive; a controller with thousands of
// agents would read and answer one such ping per agent and change.
// (Keepalive pings come every 10 s; the test is over before.)
func TestSessionDoesNotPingPerConfig(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	ctl := startExamples(t, ctx)
	relay := newPingCounter(t, ctl.Addr)
	configs := make(chan *v1.PopConfig, 1)
	s := saopauloSession(relay.ln.Addr().String(), configs)
	go s.once(ctx, backoff.New(time.Millisecond, time.Millisecond), controlconn.Target{Addr: relay.ln.Addr().String()})
	recv := func() *v1.PopConfig {
		t.Helper()
		select {
		case cfg := <-configs:
			return cfg
		case <-ctx.Done():
			t.Fatal("no config from the controller")
			return nil
		}
	}
	recv()
	var without []string
	for i := range 4 {
		obj, err := ctl.Admin.Get(ctx, &v1.GetRequest{Kind: v1.Kind_KIND_ANYCAST_SERVICE, Name: "edge-http"})
		if err != nil {
			t.Fatal(err)
		}
		svc := obj.GetObject().GetAnycastService()
		if i == 0 {
			without = slices.Clone(svc.Spec.Pops.Names)
		}
		if i%2 == 0 {
			svc.Spec.Pops.Names = append(slices.Clone(without), "saopaulo")
		} else {
			svc.Spec.Pops.Names = without
		}
		if _, err := ctl.Admin.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{resource.Wrap(svc)}}); err != nil {
			t.Fatal(err)
		}
		if got, want := len(recv().GetServices()), 2-i%2; got != want {
			t.Fatalf("change %d: saopaulo's config has %d services, want %d", i+1, got, want)
		}
	}
	if n := relay.pings.Load(); n != 0 {
		t.Errorf("the agent sent %d pings while receiving 5 configs; want none", n)
	}
}

// startExamples runs a controller holding the example deployment.
func startExamples(t *testing.T, ctx context.Context) *controllertest.Running {
	t.Helper()
	ctl := controllertest.StartAt(t, t.TempDir(), nil)
	objs, err := manifest.LoadFS(examples.FS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ctl.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatal(err)
	}
	return ctl
}

// saopauloSession is a session of saopaulo's agent with the controller at
// addr, its configs sent to configs.
func saopauloSession(addr string, configs chan *v1.PopConfig) *session {
	return &session{
		controllers: controlconn.NewRotation([]string{addr}),
		pop:         "saopaulo",
		log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		revision:    new(atomic.Int64),
		configs:     configs,
		connected:   make(chan bool, 1),
		reports:     make(chan *v1.PopStatus, 1),
	}
}

// TestStreamsFirstReportStampedAsSent: a report that waited in the queue
// while the agent was cut off goes out as the new stream's first, stamped
// when sent; the controller's copy does not say the agent last reported
// before the stream began.
func TestStreamsFirstReportStampedAsSent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ctl := startExamples(t, ctx)
	configs := make(chan *v1.PopConfig, 8)
	s := saopauloSession(ctl.Addr, configs)
	s.report(&v1.PopStatus{Pop: "saopaulo", ReportedAt: timestamppb.New(time.Now().Add(-time.Hour))})
	began := time.Now()
	go s.once(ctx, backoff.New(time.Millisecond, time.Millisecond), controlconn.Target{Addr: ctl.Addr})
	for {
		resp, err := ctl.Admin.Status(ctx, &v1.StatusRequest{Pop: "saopaulo"})
		if err != nil {
			t.Fatal(err)
		}
		if pops := resp.GetPops(); len(pops) == 1 && pops[0].GetStatus() != nil {
			if at := pops[0].GetStatus().GetReportedAt().AsTime(); at.Before(began) {
				t.Fatalf("the stored report says it was made at %v, before the stream began (%v)", at, began)
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("no report stored for saopaulo")
		case <-time.After(20 * time.Millisecond):
		}
	}
}
