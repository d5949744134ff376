//go:build linux

package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/anyctl/anyctl/controlconn"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// agent simulates one PoP's agent on the Agent stream, as bench/fleet's
// do: it says hello, takes its configs, and reports every interval what
// its origin probes see, each origin healthy (with the RTT of the
// generated snapshot) unless marked down. A change of what it sees is
// reported at once.
type agent struct {
	pop string
	rtt map[string]*durationpb.Duration

	mu   sync.Mutex // guards cfg and down
	cfg  *v1.PopConfig
	down map[string]bool

	first chan struct{} // closed at the first config
	once  sync.Once
	// now asks the reporter for a report at once; it closes the channel
	// it is given once the report is sent.
	now chan chan struct{}
}

func newAgent(p *v1.SnapshotPop) *agent {
	return &agent{pop: p.GetName(), rtt: p.GetRtt(), down: map[string]bool{}, first: make(chan struct{}), now: make(chan chan struct{})}
}

// run holds the agent's stream until ctx ends. A broken stream ends the
// run: the benchmark's numbers would mean nothing after it.
func (a *agent) run(ctx context.Context, addr string, interval time.Duration) error {
	conn, err := controlconn.Dial(addr, nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	stream, err := v1.NewAgentServiceClient(conn).Connect(ctx, grpc.WaitForReady(true))
	if err != nil {
		return err
	}
	hello := &v1.AgentHello{Pop: a.pop, AgentVersion: "gslbe2e", Instance: "gslbe2e-" + a.pop}
	if err := stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: hello}}); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- a.report(ctx, stream, interval) }()
	for {
		m, err := stream.Recv()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("agent %s: %w", a.pop, err)
		}
		if cfg := m.GetConfig(); cfg != nil {
			a.mu.Lock()
			a.cfg = cfg
			a.mu.Unlock()
			a.once.Do(func() { close(a.first) })
		}
	}
}

// report sends a full report every interval, and whenever asked.
func (a *agent) report(ctx context.Context, stream v1.AgentService_ConnectClient, interval time.Duration) error {
	select {
	case <-a.first:
	case <-ctx.Done():
		return nil
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var sent chan struct{}
	for {
		if err := stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: a.status()}}); err != nil {
			return err
		}
		if sent != nil {
			close(sent)
			sent = nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case sent = <-a.now:
		}
	}
}

// status is the agent's report now.
func (a *agent) status() *v1.PopStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := &v1.PopStatus{Pop: a.pop, ConfigRevision: a.cfg.GetRevision(), ReportedAt: timestamppb.Now(), AgentVersion: "gslbe2e"}
	for _, p := range a.cfg.GetPeers() {
		st.Peers = append(st.Peers, &v1.PeerStatus{Address: p.GetAddress(), PeerAsn: p.GetPeerAsn(), State: "established",
			UpSince: timestamppb.New(time.Unix(1_700_000_000, 0))})
	}
	for _, pr := range a.cfg.GetOriginProbes() {
		r := &v1.OriginProbeResult{Origin: pr.GetOrigin(), Healthy: !a.down[pr.GetOrigin()], LastResult: "ok", Rtt: a.rtt[pr.GetOrigin()]}
		if !r.Healthy {
			r.LastResult, r.Rtt = "connection refused", nil
		}
		st.OriginProbes = append(st.OriginProbes, r)
	}
	return st
}

// set marks origin down (or up) and reports it at once; it returns when
// the report is sent, with the time it was.
func (a *agent) set(ctx context.Context, origin string, down bool) (time.Time, error) {
	a.mu.Lock()
	a.down[origin] = down
	a.mu.Unlock()
	sent := make(chan struct{})
	select {
	case a.now <- sent:
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
	select {
	case <-sent:
		return time.Now(), nil
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
}
