//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anyctl/anyctl/backoff"
	"github.com/anyctl/anyctl/controlconn"
	"github.com/anyctl/anyctl/popstatus"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// simAgent is one simulated PoP agent: its own connection and Agent
// stream, the configs it got (revision and when) and a report every
// interval built from the last config. Like a real agent (agent/session.go)
// it goes through the controllers it is given in a rotation starting at a
// random one, moves to the next whenever its stream breaks, waits a
// jittered backoff (200 ms doubling to 10 s) between attempts, and says
// in its hello the revision it holds.
type simAgent struct {
	pop string
	// instance names the simulated agent's run in its hello, as an
	// agent's does.
	instance string
	// idx places the agent on a shared connection (-streams-per-conn).
	idx int

	mu       sync.Mutex // guards the fields below
	cfg      *v1.PopConfig
	received []configSeen
	// on is the replica the current stream is with ("" between streams);
	// streams lists every stream that got its first config.
	on      string
	streams []streamSeen

	connected chan struct{} // closed at the first config
	once      sync.Once
	reports   atomic.Int64
	failed    atomic.Pointer[error] // why a stream last ended early
	// ended counts streams that ended before ctx; refused counts those
	// the controller refused because the PoP had a live agent (the claim
	// of a stream through a replica that died, until its lease ends).
	ended, refused atomic.Int64
	// full sends every report in full, as an agent that predates
	// StatusUnchanged does.
	full bool
}

type configSeen struct {
	rev int64
	at  time.Time
}

// streamSeen is one stream, from its first config.
type streamSeen struct {
	replica string
	at      time.Time
	// held is the config held when the stream began (nil for the
	// first); got the stream's first config.
	held, got *v1.PopConfig
}

func newSimAgent(pop string, idx int, full bool) *simAgent {
	return &simAgent{pop: pop, instance: fmt.Sprintf("fleet-sim-%d-%d", os.Getpid(), idx), idx: idx, connected: make(chan struct{}), full: full}
}

// connPool holds the connections agent streams share with
// -streams-per-conn: perConn agents (by index) per connection to each
// replica, dialled when first asked for.
// leanConn are the simulated agents' dial options: the agent's own
// (controlconn.FixedWindows, as agent/session.go dials) and 8 KiB read
// and write buffers, as the controller's side of each connection has
// (gRPC's default is 32 KiB each). A real agent holds one connection and
// does not care; ten thousand of them in this process would otherwise
// hold 640 MB of buffers, on the controller's cores.
var leanConn = append(controlconn.FixedWindows(),
	grpc.WithWriteBufferSize(8<<10),
	grpc.WithReadBufferSize(8<<10),
)

type connPool struct {
	perConn int
	mu      sync.Mutex // guards conns
	conns   map[string]map[int]*grpc.ClientConn
}

func (p *connPool) get(t controlconn.Target, idx int) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		p.conns = map[string]map[int]*grpc.ClientConn{}
	}
	if p.conns[t.Addr] == nil {
		p.conns[t.Addr] = map[int]*grpc.ClientConn{}
	}
	k := idx / p.perConn
	if cc := p.conns[t.Addr][k]; cc != nil {
		return cc, nil
	}
	cc, err := controlconn.DialTarget(t, nil, leanConn...)
	if err != nil {
		return nil, err
	}
	p.conns[t.Addr][k] = cc
	return cc, nil
}

func (p *connPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.conns {
		for _, cc := range m {
			cc.Close()
		}
	}
}

// run holds the agent's stream until ctx ends, reconnecting when it ends
// to the next controller of its rotation. With pool set, the stream goes
// over a connection shared with other agents instead of one of its own.
func (a *simAgent) run(ctx context.Context, rot *controlconn.Rotation, pool *connPool, interval time.Duration) {
	bo := backoff.New(200*time.Millisecond, 10*time.Second)
	for {
		err := a.once1(ctx, rot.Next(ctx), pool, interval, bo)
		if ctx.Err() != nil {
			return
		}
		a.failed.Store(&err)
		a.ended.Add(1)
		if status.Code(err) == codes.FailedPrecondition {
			a.refused.Add(1)
		}
		if !bo.Wait(ctx) {
			return
		}
	}
}

// once1 runs one stream until it ends, and returns why.
func (a *simAgent) once1(ctx context.Context, target controlconn.Target, pool *connPool, interval time.Duration, bo *backoff.Backoff) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var conn *grpc.ClientConn
	var err error
	if pool != nil {
		conn, err = pool.get(target, a.idx)
	} else {
		conn, err = controlconn.DialTarget(target, nil, leanConn...)
		if err == nil {
			defer conn.Close()
		}
	}
	if err != nil {
		return err
	}
	stream, err := v1.NewAgentServiceClient(conn).Connect(ctx, grpc.WaitForReady(false))
	if err != nil {
		return err
	}
	a.mu.Lock()
	held := a.cfg
	a.mu.Unlock()
	hello := &v1.AgentHello{Pop: a.pop, Revision: held.GetRevision(), AgentVersion: "fleet-sim", Instance: a.instance}
	if err := stream.Send(&v1.ConnectRequest{Msg: &v1.ConnectRequest_Hello{Hello: hello}}); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	defer func() {
		a.mu.Lock()
		a.on = ""
		a.mu.Unlock()
	}()
	// accepts is set when the controller's first config takes unchanged
	// reports as such; acceptsRevision, when it also takes those naming
	// another config revision.
	accepts, acceptsRevision := new(atomic.Bool), new(atomic.Bool)
	first := true
	for {
		m, err := stream.Recv()
		if err != nil {
			return err
		}
		cfg := m.GetConfig()
		if cfg == nil {
			continue
		}
		now := time.Now()
		a.mu.Lock()
		a.cfg = cfg
		a.received = append(a.received, configSeen{cfg.GetRevision(), now})
		if first {
			a.on = target.Addr
			a.streams = append(a.streams, streamSeen{replica: target.Addr, at: now, held: held, got: cfg})
		}
		a.mu.Unlock()
		if first {
			first = false
			bo.Reset()
			a.once.Do(func() { close(a.connected) })
			accepts.Store(m.GetAcceptsUnchanged() && !a.full)
			acceptsRevision.Store(m.GetAcceptsUnchanged() && m.GetAcceptsRevisionOnly() && !a.full)
			go a.report(ctx, stream, interval, accepts, acceptsRevision)
		}
	}
}

// current returns the replica the agent streams from ("" when none) and
// how many streams it has had.
func (a *simAgent) current() (replica string, streams int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.on, len(a.streams)
}

// stream returns the agent's i-th stream (from 0).
func (a *simAgent) stream(i int) streamSeen {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.streams[i]
}

// report sends a report every interval, from a random phase, once the
// first config is in: as the agent does, one that says what the last one
// sent said goes as StatusUnchanged when the controller accepts that, and
// one that says so but for the config revision as StatusUnchanged naming
// the revision.
func (a *simAgent) report(ctx context.Context, stream v1.AgentService_ConnectClient, interval time.Duration, accepts, acceptsRevision *atomic.Bool) {
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
		unchanged := false
		switch {
		case sent == nil || !accepts.Load():
		case popstatus.Same(sent, st):
			m.Msg = &v1.ConnectRequest_Unchanged{Unchanged: &v1.StatusUnchanged{}}
			unchanged = true
		case acceptsRevision.Load() && popstatus.SameButRevision(sent, st):
			m.Msg = &v1.ConnectRequest_Unchanged{Unchanged: &v1.StatusUnchanged{ConfigRevision: st.GetConfigRevision()}}
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
