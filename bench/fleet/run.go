//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/anyctl/anyctl/controlconn"
	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation/validationtest"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
)

func run(ctx context.Context, o options) error {
	work, err := os.MkdirTemp("", "anyctl-fleet-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := o.anyctl
	if bin == "" && !o.inprocess {
		bin = filepath.Join(work, "anyctl")
		fmt.Printf("building anyctl into %s\n", work)
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cli/anyctl")
		if build.Dir, err = moduleRoot(ctx); err != nil {
			return err
		}
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cli/anyctl: %w\n%s", err, out)
		}
	}
	for _, n := range o.agents {
		if err := runOne(ctx, o, bin, work, n); err != nil {
			return fmt.Errorf("%d agents: %w", n, err)
		}
	}
	return nil
}

// runOne measures one fleet size against a fresh controller.
func runOne(ctx context.Context, o options, bin, work string, n int) error {
	fmt.Printf("\n== %d agents, %d services, a report every %s, %d agent stream(s) per connection\n", n, o.services, o.interval, max(1, o.perConn))
	var c *controllerProc
	var err error
	if o.inprocess {
		c, err = startInProcess(ctx, work, n, o.cpuprofile, o.fanoutProfile)
	} else {
		c, err = startController(ctx, bin, work, n)
	}
	if err != nil {
		return err
	}
	defer c.stop()
	if err := applyFleet(ctx, c, n, o.services); err != nil {
		return err
	}
	_, rss, err := c.usage()
	if err != nil {
		return err
	}
	fmt.Printf("controller RSS with the desired state, no agents: %.0f MiB\n", mib(rss))

	actx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	agents := make([]*simAgent, n)
	start := time.Now()
	var conns []*grpc.ClientConn
	defer func() {
		for _, cc := range conns {
			cc.Close()
		}
	}()
	for i := range agents {
		agents[i] = newSimAgent(validationtest.PopName(i))
		var shared *grpc.ClientConn
		if o.perConn > 1 {
			if i%o.perConn == 0 {
				cc, err := controlconn.Dial(c.addr, nil)
				if err != nil {
					return err
				}
				conns = append(conns, cc)
			}
			shared = conns[len(conns)-1]
		}
		wg.Go(func() { agents[i].run(actx, c.addr, shared, o.interval) })
	}
	connectTimes := make([]time.Duration, 0, n)
	deadline := time.After(o.connTimout)
	for _, a := range agents {
		select {
		case <-a.connected:
			connectTimes = append(connectTimes, a.connectedAt().Sub(start))
		case <-deadline:
			return fmt.Errorf("%d of %d agents connected within %s (%d streams failed; first: %v)", len(connectTimes), n, o.connTimout, failures(agents), firstFailure(agents))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	slices.Sort(connectTimes)
	fmt.Printf("connect: every agent holding its first config %.2f s after dialling (p50 %.2f s); streams ended (and redialled) %d\n",
		connectTimes[n-1].Seconds(), pct(connectTimes, 50).Seconds(), failures(agents))

	if err := sleepCtx(ctx, o.settle); err != nil {
		return err
	}
	cpu, rss, rev, reports, err := steady(ctx, c, agents, o.window)
	if err != nil {
		return err
	}
	fmt.Printf("steady state over %s: controller CPU %.1f%% of a core, RSS %.0f MiB, etcd writes %.2f/s, reports %.0f/s; streams ended so far %d\n",
		o.window, cpu, mib(rss), rev, reports, failures(agents))

	var all []time.Duration
	if err := c.inproc.startFanoutProfile(); err != nil {
		return err
	}
	for trial := 1; trial <= o.fanout; trial++ {
		cpu0, _, err := c.usage()
		if err != nil {
			return err
		}
		lat, err := fanout(ctx, c, agents, trial)
		if err != nil {
			return err
		}
		cpu1, _, err := c.usage()
		if err != nil {
			return err
		}
		fmt.Printf("fan-out %d: every agent holding the change p50 %.0f ms, p99 %.0f ms, max %.0f ms; controller CPU meanwhile %.0f ms; streams ended so far %d\n", trial,
			ms(pct(lat, 50)), ms(pct(lat, 99)), ms(lat[len(lat)-1]), ms(cpu1-cpu0), failures(agents))
		all = append(all, lat...)
		if trial == o.fanout {
			c.inproc.stopFanoutProfile()
		}
		if err := sleepCtx(ctx, 2*time.Second); err != nil {
			return err
		}
	}
	c.inproc.stopFanoutProfile()
	if len(all) > 0 {
		slices.Sort(all)
		fmt.Printf("fan-out, %d changes × %d agents: p50 %.0f ms, p99 %.0f ms, max %.0f ms\n", o.fanout, n,
			ms(pct(all, 50)), ms(pct(all, 99)), ms(all[len(all)-1]))
	}
	if o.soak > 0 {
		return soak(ctx, c, agents, o.soak, o.soakEvery)
	}
	return nil
}

func (a *simAgent) connectedAt() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.received[0].at
}

// applyFleet applies n PoPs and the services, 2,000 objects an apply.
func applyFleet(ctx context.Context, c *controllerProc, n, services int) error {
	var objs []*v1.Object
	for i := range n {
		objs = append(objs, resource.Wrap(validationtest.Pop(i)))
	}
	for i := range services {
		objs = append(objs, resource.Wrap(validationtest.Service(i)))
	}
	start := time.Now()
	for len(objs) > 0 {
		batch := objs[:min(2000, len(objs))]
		objs = objs[len(batch):]
		actx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		_, err := c.admin.Apply(actx, &v1.ApplyRequest{Objects: batch})
		cancel()
		if err != nil {
			return fmt.Errorf("apply: %w", err)
		}
	}
	fmt.Printf("applied %d PoPs and %d services in %.1f s\n", n, services, time.Since(start).Seconds())
	return nil
}

// steady measures the controller over window: CPU (% of a core), RSS at
// the end, etcd revisions per second and reports sent per second.
func steady(ctx context.Context, c *controllerProc, agents []*simAgent, window time.Duration) (cpuPct float64, rssKB int, writes, reports float64, err error) {
	rev0, _, _, err := c.etcdState(ctx)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	cpu0, _, err := c.usage()
	if err != nil {
		return 0, 0, 0, 0, err
	}
	r0 := sentReports(agents)
	t0 := time.Now()
	if err := c.inproc.startProfile(); err != nil {
		return 0, 0, 0, 0, err
	}
	defer c.inproc.stopProfile()
	wctx, stopWatch := context.WithCancel(ctx)
	counted := make(chan writeCounts, 1)
	go func() { counted <- countStatusWrites(wctx, c) }()
	if err := sleepCtx(ctx, window); err != nil {
		stopWatch()
		return 0, 0, 0, 0, err
	}
	stopWatch()
	wc := <-counted
	fmt.Printf("status keys over the window: %d created (a new lease), %d updated, %d deleted (a lease ended); %v\n", wc.created, wc.updated, wc.deleted, endReasons(agents))
	cpu1, rss, err := c.usage()
	if err != nil {
		return 0, 0, 0, 0, err
	}
	rev1, _, _, err := c.etcdState(ctx)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	el := time.Since(t0).Seconds()
	return 100 * (cpu1 - cpu0).Seconds() / el, rss, float64(rev1-rev0) / el, float64(sentReports(agents)-r0) / el, nil
}

// fanout changes the health check of svc-00000 (on every PoP) and returns,
// sorted, how long after the Apply call each agent held the new config.
func fanout(ctx context.Context, c *controllerProc, agents []*simAgent, trial int) ([]time.Duration, error) {
	svc := validationtest.Service(0)
	svc.Spec.HealthCheck.Interval = durationpb.New(time.Duration(2+trial%2) * time.Second)
	start := time.Now()
	var resp *v1.ApplyResponse
	var err error
	// An etcd that is behind refuses for a while ("too many requests"):
	// retry as an operator would, from the first attempt's clock.
	for attempt := 1; ; attempt++ {
		if resp, err = c.admin.Apply(ctx, &v1.ApplyRequest{Objects: []*v1.Object{resource.Wrap(svc)}}); err == nil {
			break
		}
		if attempt == 10 {
			return nil, fmt.Errorf("fan-out apply, %d attempts: %w", attempt, err)
		}
		fmt.Printf("fan-out %d: apply attempt %d failed: %v\n", trial, attempt, err)
		if err := sleepCtx(ctx, time.Second); err != nil {
			return nil, err
		}
	}
	rev := resp.GetRevision()
	if rev == 0 {
		return nil, fmt.Errorf("fan-out apply %d changed nothing", trial)
	}
	lat := make([]time.Duration, 0, len(agents))
	deadline := time.Now().Add(time.Minute)
	for _, a := range agents {
		for {
			if at, ok := a.firstAtOrAfter(rev); ok {
				lat = append(lat, at.Sub(start))
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("fan-out %d: %d of %d agents got revision %d within a minute", trial, len(lat), len(agents), rev)
			}
			if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
				return nil, err
			}
		}
	}
	slices.Sort(lat)
	return lat, nil
}

// soak keeps the fleet reporting for d, logging every interval.
func soak(ctx context.Context, c *controllerProc, agents []*simAgent, d, every time.Duration) error {
	fmt.Printf("soak for %s: elapsed, etcd revision, db size, db in use, controller RSS, CPU over the interval, reports/s\n", d)
	end := time.Now().Add(d)
	cpu0, _, err := c.usage()
	if err != nil {
		return err
	}
	r0, t0, began := sentReports(agents), time.Now(), time.Now()
	for time.Now().Before(end) {
		if err := sleepCtx(ctx, min(every, time.Until(end))); err != nil {
			return err
		}
		rev, size, inUse, err := c.etcdState(ctx)
		if err != nil {
			return err
		}
		cpu1, rss, err := c.usage()
		if err != nil {
			return err
		}
		r1, t1 := sentReports(agents), time.Now()
		el := t1.Sub(t0).Seconds()
		fmt.Printf("soak %6s  rev %8d  db %7.1f MiB  in use %7.1f MiB  RSS %6.0f MiB  CPU %5.1f%%  reports %5.0f/s  streams ended (and redialled) %d\n",
			t1.Sub(began).Round(time.Second), rev, float64(size)/(1<<20), float64(inUse)/(1<<20), mib(rss),
			100*(cpu1-cpu0).Seconds()/el, float64(r1-r0)/el, failures(agents))
		cpu0, r0, t0 = cpu1, r1, t1
	}
	return nil
}

func sentReports(agents []*simAgent) int64 {
	var n int64
	for _, a := range agents {
		n += a.reports.Load()
	}
	return n
}

// failures counts the streams that ended before the run did.
func failures(agents []*simAgent) int64 {
	var n int64
	for _, a := range agents {
		n += a.ended.Load()
	}
	return n
}

func firstFailure(agents []*simAgent) any {
	for _, a := range agents {
		if err := a.failed.Load(); err != nil {
			return *err
		}
	}
	return nil
}

// pct is the p-th percentile (nearest rank) of sorted durations.
func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(len(sorted)-1, i-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func mib(kb int) float64 { return float64(kb) / 1024 }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// moduleRoot is the directory of the main module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run from inside the anyctl module (go env GOMOD: %q, %v)", gomod, err)
	}
	return filepath.Dir(gomod), nil
}

// writeCounts counts the writes to the PoP reports' keys.
type writeCounts struct{ created, updated, deleted int }

// countStatusWrites counts the writes to the reports' keys, through a
// mirror of them, until ctx ends.
func countStatusWrites(ctx context.Context, c *controllerProc) writeCounts {
	k := &writeCounter{}
	c.st.StatusMirror(k).Run(ctx)
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.counts
}

// writeCounter is a mirror's sink that counts what changes.
type writeCounter struct {
	mu     sync.Mutex // guards known and counts
	known  map[string]bool
	counts writeCounts
}

func (k *writeCounter) Reset(entries map[string]*v1.PopStatus, _ int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.known = map[string]bool{}
	for pop := range entries {
		k.known[pop] = true
	}
}

func (k *writeCounter) Apply(changes []store.Change[string, *v1.PopStatus], _ int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, ch := range changes {
		switch {
		case ch.Deleted:
			k.counts.deleted++
			delete(k.known, ch.Key)
		case k.known[ch.Key]:
			k.counts.updated++
		default:
			k.counts.created++
			k.known[ch.Key] = true
		}
	}
}

// endReasons counts why streams ended, by the last error of each agent
// whose stream ended.
func endReasons(agents []*simAgent) map[string]int {
	out := map[string]int{}
	for _, a := range agents {
		if err := a.failed.Load(); err != nil {
			msg := (*err).Error()
			if len(msg) > 80 {
				msg = msg[:80]
			}
			out[msg]++
		}
	}
	return out
}
