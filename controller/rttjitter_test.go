package controller_test

import (
	"context"
	"testing"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestRTTJitterAcrossARoundingBoundaryIsNotAChange: a PoP's RTT to an
// origin jittering between 23.4 and 23.6 ms (23 and 24 at the rounding)
// is one RTT: the reports are not stored again and DNS servers are not
// sent a new snapshot for each, as they were at every such report, each
// send the whole snapshot to every DNS server. An RTT that moves (to 30
// ms) is sent.
func TestRTTJitterAcrossARoundingBoundaryIsNotAChange(t *testing.T) {
	r := startWithExamples(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	feed, err := v1.NewGslbFeedServiceClient(r.Conn).Subscribe(ctx, &v1.SubscribeRequest{ServerName: "test"})
	if err != nil {
		t.Fatal(err)
	}
	snaps := make(chan *v1.GslbSnapshot, 100)
	go func() {
		defer close(snaps)
		for {
			m, err := feed.Recv()
			if err != nil {
				return
			}
			if m.GetSnapshot() == nil {
				continue // a confirmation alone
			}
			snaps <- m.GetSnapshot()
		}
	}()
	rttOf := func(s *v1.GslbSnapshot) time.Duration {
		for _, p := range s.GetPops() {
			if p.GetName() == "tokyo" {
				return p.GetRtt()["eu-west"].AsDuration()
			}
		}
		return 0
	}
	next := func(what string) *v1.GslbSnapshot {
		t.Helper()
		select {
		case s, ok := <-snaps:
			if !ok {
				t.Fatalf("feed closed waiting for %s", what)
			}
			return s
		case <-time.After(20 * time.Second):
			t.Fatalf("timed out waiting for %s", what)
		}
		return nil
	}
	next("the first snapshot")
	stream, _ := agentStream(t, ctx, r, "tokyo")
	send := func(rtt time.Duration) {
		t.Helper()
		st := &v1.PopStatus{Pop: "tokyo", ReportedAt: timestamppb.Now(), OriginProbes: []*v1.OriginProbeResult{
			{Origin: "eu-west", Healthy: true, Rtt: durationpb.New(rtt)},
		}}
		if err := stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: st}}); err != nil {
			t.Fatal(err)
		}
	}
	send(23400 * time.Microsecond)
	for s := next("tokyo's RTT"); rttOf(s) != 23*time.Millisecond; s = next("tokyo's RTT of 23 ms") {
	}
	for i := range 10 {
		send(time.Duration(23400+200*((i+1)%2)) * time.Microsecond)
		// Reports come seconds apart, not in one burst the controller
		// takes in as one change.
		time.Sleep(150 * time.Millisecond)
	}
	send(30 * time.Millisecond)
	var between []time.Duration
	for s := next("tokyo's RTT of 30 ms"); rttOf(s) != 30*time.Millisecond; s = next("tokyo's RTT of 30 ms") {
		between = append(between, rttOf(s))
	}
	if len(between) > 0 {
		t.Errorf("RTT jitter between 23.4 and 23.6 ms sent %d snapshots to every DNS server (RTTs %v) before the move to 30 ms", len(between), between)
	}
}
