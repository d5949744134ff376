//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/anyctl/anyctl/compile"
	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// failoverDrainPeriod is the GRACEFUL_SHUTDOWN period of the drain the
// new leader finishes: shorter than the election lease (5 s), so that the
// withdrawal falls due before another replica can lead, and is the first
// write the new leader makes.
const failoverDrainPeriod = 2 * time.Second

// failover SIGKILLs the leading replica and measures: when another
// replica leads (it logs "leading the fleet jobs", as fleettest reads it),
// when it makes its first leader-only write (the next step of a drain of
// the agentless PoP drainPop, which fell due while no replica led), and
// when every agent that streamed from the dead replica streams from a
// live one again, with the config it held (no re-announcement).
func failover(ctx context.Context, env *fleetEnv, agents []*simAgent, drainPop string) error {
	var leader *controllerProc
	deadline := time.Now().Add(30 * time.Second)
	for leader = env.leader(); leader == nil; leader = env.leader() {
		if time.Now().After(deadline) {
			return fmt.Errorf("failover: no replica logs that it leads")
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	var survivor *controllerProc
	for _, c := range env.ctls {
		if c != leader && !c.dead() {
			survivor = c
		}
	}
	if survivor == nil {
		return fmt.Errorf("failover: no replica besides the leader %s", leader.name)
	}

	// The drain, stepped on by the leader to GRACEFUL_SHUTDOWN before the
	// kill; its withdrawal falls due failoverDrainPeriod later.
	drains := &drainWatch{pop: drainPop, seen: map[compile.DrainStep]time.Time{}}
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	m := env.st.FleetMirror(drains)
	go m.Run(wctx)
	select {
	case <-m.Ready():
	case <-ctx.Done():
		return ctx.Err()
	}
	if _, err := survivor.admin.Drain(ctx, &v1.DrainRequest{Pop: drainPop, Force: true, DrainPeriod: durationpb.New(failoverDrainPeriod)}); err != nil {
		return fmt.Errorf("failover: drain of %s: %w", drainPop, err)
	}
	for !drains.reached(compile.DrainGracefulShutdown) {
		if time.Now().After(deadline.Add(30 * time.Second)) {
			return fmt.Errorf("failover: the leader %s did not step the drain of %s to GRACEFUL_SHUTDOWN", leader.name, drainPop)
		}
		if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
			return err
		}
	}

	type mover struct {
		a       *simAgent
		streams int
	}
	var movers []mover
	var stayers []*simAgent
	endedBefore := map[*simAgent]int64{}
	for _, a := range agents {
		if r, k := a.current(); r == leader.addr {
			movers = append(movers, mover{a, k})
		} else {
			stayers = append(stayers, a)
			endedBefore[a] = a.ended.Load()
		}
	}
	refusedBefore := map[*simAgent]int64{}
	for _, mv := range movers {
		refusedBefore[mv.a] = mv.a.refused.Load()
	}
	logOffset := fileSize(survivor.log)
	u0, err := env.usage()
	if err != nil {
		return err
	}

	killed := time.Now()
	leader.kill()
	fmt.Printf("failover: leader %s SIGKILLed %.0f ms after the drain of %s reached GRACEFUL_SHUTDOWN (%s period); %d agents streamed from it, %d from the other replica(s)\n",
		leader.name, ms(killed.Sub(drains.at(compile.DrainGracefulShutdown))), drainPop, failoverDrainPeriod, len(movers), len(stayers))

	var leadAt time.Time
	moved := make([]time.Duration, 0, len(movers))
	done := make([]bool, len(movers))
	deadline = killed.Add(2 * time.Minute)
	progress := killed.Add(10 * time.Second)
	for {
		if now := time.Now(); now.After(progress) {
			// Every 10 s: how far the move is, and whether the agents
			// of the surviving replica still stream.
			streaming, refused := 0, int64(0)
			for _, a := range stayers {
				if r, _ := a.current(); r != "" {
					streaming++
				}
			}
			for _, mv := range movers {
				refused += mv.a.refused.Load() - refusedBefore[mv.a]
			}
			fmt.Printf("failover +%2.0f s: %d of %d agents of %s streaming again, %d attempts refused; %d of the other replica's %d agents streaming; new leader logged %v, drain withdrawn %v\n",
				now.Sub(killed).Seconds(), len(moved), len(movers), leader.name, refused, streaming, len(stayers), !leadAt.IsZero(), drains.reached(compile.DrainWithdrawn))
			progress = progress.Add(10 * time.Second)
		}
		if leadAt.IsZero() {
			leadAt = leadingSince(survivor.log, logOffset)
		}
		for i, mv := range movers {
			if done[i] {
				continue
			}
			if r, k := mv.a.current(); k > mv.streams && r != "" && r != leader.addr {
				done[i] = true
				moved = append(moved, mv.a.stream(k-1).at.Sub(killed))
			}
		}
		if !leadAt.IsZero() && drains.reached(compile.DrainWithdrawn) && len(moved) == len(movers) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("failover: after 2 minutes: new leader logged %v, drain withdrawn %v, %d of %d agents streaming again",
				!leadAt.IsZero(), drains.reached(compile.DrainWithdrawn), len(moved), len(movers))
		}
		if err := sleepCtx(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
	u1, err := env.usage()
	if err != nil {
		return err
	}
	slices.Sort(moved)
	fmt.Printf("failover: %s leads %.2f s after the SIGKILL (its log); its first leader-only write (%s withdrawn, due %.2f s after the SIGKILL) %.2f s after\n",
		survivor.name, leadAt.Sub(killed).Seconds(), drainPop,
		drains.at(compile.DrainGracefulShutdown).Add(failoverDrainPeriod).Sub(killed).Seconds(),
		drains.at(compile.DrainWithdrawn).Sub(killed).Seconds())
	var refused int64
	for _, mv := range movers {
		refused += mv.a.refused.Load() - refusedBefore[mv.a]
	}
	if len(moved) > 0 {
		fmt.Printf("failover: all %d agents of %s streaming again %.2f s after the SIGKILL (p50 %.2f s, p99 %.2f s); %d attempts refused meanwhile\n",
			len(moved), leader.name, moved[len(moved)-1].Seconds(), pct(moved, 50).Seconds(), pct(moved, 99).Seconds(), refused)
	}
	var sameRev, sameContent, changed int
	var example string
	for _, mv := range movers {
		_, k := mv.a.current()
		s := mv.a.stream(k - 1)
		switch {
		case s.got.GetRevision() == s.held.GetRevision() && sameConfig(s.got, s.held):
			sameRev++
		case sameConfig(s.got, s.held):
			sameContent++
			if example == "" {
				example = fmt.Sprintf("%s held revision %d, got %d", mv.a.pop, s.held.GetRevision(), s.got.GetRevision())
			}
		default:
			changed++
			if example == "" {
				example = fmt.Sprintf("%s held revision %d, got %d with other content", mv.a.pop, s.held.GetRevision(), s.got.GetRevision())
			}
		}
	}
	var stayersEnded int64
	for _, a := range stayers {
		stayersEnded += a.ended.Load() - endedBefore[a]
	}
	fmt.Printf("failover: config on the new stream: %d the one held (same revision and content), %d the same content at another revision, %d changed%s; streams of the other replica's agents that ended: %d\n",
		sameRev, sameContent, changed, exampleNote(example), stayersEnded)
	fmt.Printf("failover: CPU over the failover (%.1f s) %s\n", u1.at.Sub(u0.at).Seconds(), u1.cpuSince(u0))
	return nil
}

func exampleNote(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// sameConfig compares two configs but for their revision.
func sameConfig(a, b *v1.PopConfig) bool {
	if a == nil || b == nil {
		return a == b
	}
	a2, b2 := proto.Clone(a).(*v1.PopConfig), proto.Clone(b).(*v1.PopConfig)
	a2.Revision, b2.Revision = 0, 0
	return proto.Equal(a2, b2)
}

// leader returns the live replica leading now: the one whose log says it
// leads ("leading the fleet jobs") and not that it stopped since.
func (e *fleetEnv) leader() *controllerProc {
	for _, c := range e.ctls {
		if c.cmd == nil || c.dead() {
			continue
		}
		b, err := os.ReadFile(c.log)
		if err != nil {
			continue
		}
		l := string(b)
		lead := strings.LastIndex(l, `msg="leading the fleet jobs"`)
		if lead >= 0 && lead > strings.LastIndex(l, "stopped leading") && lead > strings.LastIndex(l, "leadership lost") {
			return c
		}
	}
	return nil
}

// leadingSince returns the time (from its time= field) of the first line
// after offset of the log at path saying the replica leads; zero when
// there is none yet.
func leadingSince(path string, offset int64) time.Time {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}
	}
	defer f.Close()
	if _, err := f.Seek(offset, 0); err != nil {
		return time.Time{}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, `msg="leading the fleet jobs"`) {
			continue
		}
		if v, ok := strings.CutPrefix(line, "time="); ok {
			v, _, _ = strings.Cut(v, " ")
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				return t
			}
		}
	}
	return time.Time{}
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// drainWatch is a fleet-state mirror's sink noting when pop's drain record
// first reached each step.
type drainWatch struct {
	pop  string
	mu   sync.Mutex // guards seen
	seen map[compile.DrainStep]time.Time
}

func (d *drainWatch) Reset(entries map[store.FleetKey]store.FleetRecord, _ int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := entries[store.FleetKey{Kind: store.FleetDrain, Pop: d.pop}]; ok {
		d.note(r.Drain.Step)
	}
}

func (d *drainWatch) Apply(changes []store.Change[store.FleetKey, store.FleetRecord], _ int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ch := range changes {
		if ch.Key.Kind == store.FleetDrain && ch.Key.Pop == d.pop && !ch.Deleted {
			d.note(ch.Value.Drain.Step)
		}
	}
}

func (d *drainWatch) note(s compile.DrainStep) {
	if _, ok := d.seen[s]; !ok {
		d.seen[s] = time.Now()
	}
}

func (d *drainWatch) reached(s compile.DrainStep) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.seen[s]
	return ok
}

func (d *drainWatch) at(s compile.DrainStep) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.seen[s]
}
