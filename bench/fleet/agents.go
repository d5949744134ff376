//go:build linux

package main

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anyctl/anyctl/controlconn"
	"github.com/anyctl/anyctl/popstatus"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// simAgent is one simulated PoP agent: its own connection and Agent
// stream, the configs it got (revision and when) and a report every
// interval built from the last config.
type simAgent struct {
	pop string

	mu       sync.Mutex // guards cfg and received
	cfg      *v1.PopConfig
	received []configSeen

	connected chan struct{} // closed at the first config
	once      sync.Once
	reports   atomic.Int64
	failed    atomic.Pointer[error] // why a stream last ended early
	// ended counts streams that ended before ctx; the agent reconnects
	// after a second or two, as a real one does.
	ended atomic.Int64
	// full sends every report in full, as an agent that predates
	// StatusUnchanged does.
	full bool
}

type configSeen struct {
	rev int64
	at  time.Time
}

func newSimAgent(pop string, full bool) *simAgent {
	return &simAgent{pop: pop, connected: make(chan struct{}), full: full}
}

// run holds the agent's stream until ctx ends, reconnecting when it ends.
// With shared set, the stream goes over that connection instead of one of
// its own.
func (a *simAgent) run(ctx context.Context, addr string, shared *grpc.ClientConn, interval time.Duration) {
	for {
		a.once1(ctx, addr, shared, interval)
		if ctx.Err() != nil {
			return
		}
		a.ended.Add(1)
		t := time.NewTimer(time.Second + rand.N(time.Second))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// once1 runs one stream until it ends.
func (a *simAgent) once1(ctx context.Context, addr string, shared *grpc.ClientConn, interval time.Duration) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	conn := shared
	if conn == nil {
		var err error
		if conn, err = controlconn.Dial(addr, nil); err != nil {
			a.failed.Store(&err)
			return
		}
		defer conn.Close()
	}
	stream, err := v1.NewAgentServiceClient(conn).Connect(ctx)
	if err != nil {
		a.failed.Store(&err)
		return
	}
	if err := stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: &v1.AgentHello{Pop: a.pop, AgentVersion: "fleet-sim"}}}); err != nil {
		a.failed.Store(&err)
		return
	}
	// accepts is set when the controller's first response takes
	// unchanged reports as such.
	accepts := new(atomic.Bool)
	go a.report(ctx, stream, interval, accepts)
	first := true
	for {
		m, err := stream.Recv()
		if err != nil {
			if ctx.Err() == nil {
				a.failed.Store(&err)
			}
			return
		}
		if first {
			first = false
			accepts.Store(m.GetAcceptsUnchanged() && !a.full)
		}
		cfg := m.GetConfig()
		if cfg == nil {
			continue
		}
		now := time.Now()
		a.mu.Lock()
		a.cfg = cfg
		a.received = append(a.received, configSeen{cfg.GetRevision(), now})
		a.mu.Unlock()
		a.once.Do(func() { close(a.connected) })
	}
}

// report sends a report every interval, from a random phase, once the
// first config is in: as the agent does, one that says what the last one
// sent said goes as StatusUnchanged when the controller accepts that.
func (a *simAgent) report(ctx context.Context, stream v1.AgentService_ConnectClient, interval time.Duration, accepts *atomic.Bool) {
	select {
	case <-a.connected:
	case <-ctx.Done():
		return
	}
	streak := uint32(0)
	var sent *v1.PopStatus
	send := func() bool {
		a.mu.Lock()
		cfg := a.cfg
		a.mu.Unlock()
		streak++
		st := statusFor(cfg, streak)
		m := &v1.ConnectRequest{Msg: &v1.ConnectRequest_Status{Status: st}}
		unchanged := sent != nil && accepts.Load() && popstatus.Same(sent, st)
		if unchanged {
			m.Msg = &v1.ConnectRequest_Unchanged{Unchanged: &v1.StatusUnchanged{}}
		}
		if err := stream.Send(m); err != nil {
			return false
		}
		if !unchanged {
			sent = st
		}
		a.reports.Add(1)
		return true
	}
	if !send() {
		return
	}
	t := time.NewTimer(rand.N(interval))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !send() {
			return
		}
		t.Reset(interval)
	}
}

// statusFor is the report of a healthy PoP running cfg: every session up,
// every prefix announced, every check healthy; the streak and probe
// duration move as a real agent's do.
func statusFor(cfg *v1.PopConfig, streak uint32) *v1.PopStatus {
	st := &v1.PopStatus{Pop: cfg.GetPop(), ConfigRevision: cfg.GetRevision(), ReportedAt: timestamppb.Now(), AgentVersion: "fleet-sim"}
	prefixes := 0
	for _, s := range cfg.GetServices() {
		for _, p := range s.GetPrefixes() {
			prefixes++
			st.Prefixes = append(st.Prefixes, &v1.PrefixStatus{Prefix: p, Service: s.GetName(), Announced: true, Mode: s.GetMode(),
				Reason: "health check up", Communities: s.GetAnnounce().GetCommunities()})
		}
		st.Checks = append(st.Checks, &v1.CheckStatus{Service: s.GetName(), Healthy: true, LastResult: "ok", Streak: streak,
			LastDuration: durationpb.New(time.Duration(500+rand.N(1500)) * time.Microsecond)})
	}
	for _, p := range cfg.GetPeers() {
		st.Peers = append(st.Peers, &v1.PeerStatus{Address: p.GetAddress(), PeerAsn: p.GetPeerAsn(), State: "established",
			UpSince: timestamppb.New(time.Unix(1_700_000_000, 0)), PrefixesSent: uint32(prefixes)})
	}
	return st
}

// firstAtOrAfter is when the agent first held a config of revision rev or
// later; ok is false when it has not.
func (a *simAgent) firstAtOrAfter(rev int64) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.received {
		if c.rev >= rev {
			return c.at, true
		}
	}
	return time.Time{}, false
}
