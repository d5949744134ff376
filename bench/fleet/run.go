//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/anyctl/anyctl/controlconn"
	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation/validationtest"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

func run(ctx context.Context, o options) error {
	work, err := os.MkdirTemp("", "anyctl-fleet-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Printf("logs and data kept in %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	bins := binaries{anyctl: o.anyctl}
	if bins.anyctl == "" && !o.inprocess {
		bins.anyctl = filepath.Join(work, "anyctl")
		fmt.Printf("building anyctl into %s\n", work)
		build := exec.CommandContext(ctx, "go", "build", "-o", bins.anyctl, "./cli/anyctl")
		if build.Dir, err = moduleRoot(ctx); err != nil {
			return err
		}
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cli/anyctl: %w\n%s", err, out)
		}
	}
	if o.cluster {
		if bins.etcdmember, err = buildEtcdMember(ctx, work); err != nil {
			return err
		}
	}
	for _, n := range o.agents {
		if err := runOne(ctx, o, bins, work, n); err != nil {
			return fmt.Errorf("%d agents: %w", n, err)
		}
	}
	return nil
}

type binaries struct{ anyctl, etcdmember string }

// fleetEnv is what one run measures: the controller replicas and, with
// -etcd cluster, the etcd members.
type fleetEnv struct {
	ctls []*controllerProc
	etcd *etcdCluster
	// st is a store over the etcd the controllers use.
	st *store.Store
}

// startEnv starts the etcd cluster (with -etcd cluster) and the
// controller replicas.
func startEnv(ctx context.Context, o options, bins binaries, work string, n int) (*fleetEnv, error) {
	env := &fleetEnv{}
	if o.inprocess {
		c, err := startInProcess(ctx, work, n, o.cpuprofile, o.fanoutProfile)
		if err != nil {
			return nil, err
		}
		env.ctls, env.st = []*controllerProc{c}, c.st
		return env, nil
	}
	if o.cluster {
		var err error
		if env.etcd, err = startEtcdCluster(ctx, bins.etcdmember, work, 3); err != nil {
			return nil, err
		}
		if env.st, err = env.etcd.dial(ctx); err != nil {
			env.stop()
			return nil, err
		}
	}
	for i := range o.replicas {
		c, err := startController(ctx, bins.anyctl, work, fmt.Sprintf("ctl%d", i+1), n, env.etcd, env.st)
		if err != nil {
			env.stop()
			return nil, err
		}
		env.ctls = append(env.ctls, c)
		if env.st == nil {
			env.st = c.st
		}
	}
	return env, nil
}

func (e *fleetEnv) stop() {
	for _, c := range e.ctls {
		c.stop()
	}
	if e.etcd != nil {
		if e.st != nil {
			e.st.Close()
		}
		e.etcd.stop()
	}
}

// addrs are the replicas' addresses, as agents are given them.
func (e *fleetEnv) addrs() []string {
	var out []string
	for _, c := range e.ctls {
		out = append(out, c.addr)
	}
	return out
}

// proc is one process measured: a controller replica or an etcd member.
type proc struct {
	name string
	pid  string
}

// procs are the live processes measured.
func (e *fleetEnv) procs() []proc {
	var out []proc
	for _, c := range e.ctls {
		switch {
		case c.cmd == nil:
			out = append(out, proc{c.name, "self"})
		case !c.dead():
			out = append(out, proc{c.name, strconv.Itoa(c.cmd.Process.Pid)})
		}
	}
	if e.etcd != nil {
		for _, m := range e.etcd.members {
			out = append(out, proc{m.name, strconv.Itoa(m.cmd.Process.Pid)})
		}
	}
	return out
}

// usageAt is each process's CPU time and RSS at one moment.
type usageAt struct {
	at  time.Time
	cpu map[string]time.Duration
	rss map[string]int
	// order is the processes' names in the order measured.
	order []string
}

func (e *fleetEnv) usage() (usageAt, error) {
	u := usageAt{at: time.Now(), cpu: map[string]time.Duration{}, rss: map[string]int{}}
	for _, p := range e.procs() {
		cpu, rss, err := procUsage(p.pid)
		if err != nil {
			return u, fmt.Errorf("%s: %w", p.name, err)
		}
		u.cpu[p.name], u.rss[p.name] = cpu, rss
		u.order = append(u.order, p.name)
	}
	return u, nil
}

// since describes each process's CPU (% of a core) since u0 and its RSS
// now.
func (u usageAt) since(u0 usageAt) string {
	el := u.at.Sub(u0.at).Seconds()
	var parts []string
	for _, name := range u.order {
		cpu0, ok := u0.cpu[name]
		if !ok {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s CPU %.1f%% RSS %.0f MiB", name, 100*(u.cpu[name]-cpu0).Seconds()/el, mib(u.rss[name])))
	}
	return strings.Join(parts, "; ")
}

// cpuSince describes each process's CPU time since u0.
func (u usageAt) cpuSince(u0 usageAt) string {
	var parts []string
	for _, name := range u.order {
		if cpu0, ok := u0.cpu[name]; ok {
			parts = append(parts, fmt.Sprintf("%s %.0f ms", name, ms(u.cpu[name]-cpu0)))
		}
	}
	return strings.Join(parts, ", ")
}

// rssNow describes each process's RSS.
func (u usageAt) rssNow() string {
	var parts []string
	for _, name := range u.order {
		parts = append(parts, fmt.Sprintf("%s %.0f MiB", name, mib(u.rss[name])))
	}
	return strings.Join(parts, ", ")
}

// runOne measures one fleet size against a fresh controller (and etcd).
func runOne(ctx context.Context, o options, bins binaries, work string, n int) error {
	where := "embedded etcd"
	if o.cluster {
		where = "a three-member etcd cluster (fsync on)"
	}
	kind := "unchanged ones as StatusUnchanged"
	if o.fullReports {
		kind = "every one in full"
	}
	fmt.Printf("\n== %d agents, %d services, a report every %s (%s), %d agent stream(s) per connection; %d controller replica(s) on %s\n",
		n, o.services, o.interval, kind, max(1, o.perConn), o.replicas, where)
	env, err := startEnv(ctx, o, bins, work, n)
	if err != nil {
		return err
	}
	defer env.stop()
	pops := n
	if o.failover {
		pops++ // one more, agentless, for the drain the new leader moves on
	}
	if err := applyFleet(ctx, env.ctls[0], pops, o.services); err != nil {
		return err
	}
	u, err := env.usage()
	if err != nil {
		return err
	}
	fmt.Printf("RSS with the desired state, no agents: %s\n", u.rssNow())

	actx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	var pool *connPool
	if o.perConn > 1 {
		pool = &connPool{perConn: o.perConn}
		defer pool.close()
	}
	agents := make([]*simAgent, n)
	start := time.Now()
	for i := range agents {
		agents[i] = newSimAgent(validationtest.PopName(i), i, o.fullReports)
		rot := controlconn.NewRotation(env.addrs())
		wg.Go(func() { agents[i].run(actx, rot, pool, o.interval) })
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
	fmt.Printf("connect: every agent holding its first config %.2f s after dialling (p50 %.2f s); streams ended (and redialled) %d%s\n",
		connectTimes[n-1].Seconds(), pct(connectTimes, 50).Seconds(), failures(agents), spread(env, agents))

	if err := sleepCtx(ctx, o.settle); err != nil {
		return err
	}
	if o.heapProfile != "" && o.inprocess {
		if err := writeHeapProfile(o.heapProfile + ".settled"); err != nil {
			return err
		}
	}
	if o.window > 0 {
		use, rev, reports, err := steady(ctx, env, agents, o.window)
		if err != nil {
			return err
		}
		fmt.Printf("steady state over %s: etcd writes %.2f/s, reports %.0f/s; streams ended so far %d\n  %s\n",
			o.window, rev, reports, failures(agents), use)
	}
	if o.heapProfile != "" && o.inprocess {
		if err := writeHeapProfile(o.heapProfile); err != nil {
			return err
		}
	}

	var all []time.Duration
	fanRev0, _, _, err := etcdState(ctx, env.st)
	if err != nil {
		return err
	}
	if err := env.ctls[0].inproc.startFanoutProfile(); err != nil {
		return err
	}
	for trial := 1; trial <= o.fanout; trial++ {
		if !o.inprocess {
			// This program's own garbage, collected before the change
			// rather than (its collector held, holdCollector) never:
			// a heap of gigabytes left to grow across counts made the
			// controller's fan-outs at 10,000 agents cost a fifth more.
			runtime.GC()
		}
		u0, err := env.usage()
		if err != nil {
			return err
		}
		lat, err := fanout(ctx, env.ctls[0], agents, trial)
		if err != nil {
			return err
		}
		u1, err := env.usage()
		if err != nil {
			return err
		}
		fmt.Printf("fan-out %d: every agent holding the change p50 %.0f ms, p99 %.0f ms, max %.0f ms; CPU meanwhile %s; streams ended so far %d\n", trial,
			ms(pct(lat, 50)), ms(pct(lat, 99)), ms(lat[len(lat)-1]), u1.cpuSince(u0), failures(agents))
		all = append(all, lat...)
		if trial == o.fanout {
			env.ctls[0].inproc.stopFanoutProfile()
		}
		if err := sleepCtx(ctx, 2*time.Second); err != nil {
			return err
		}
	}
	env.ctls[0].inproc.stopFanoutProfile()
	if o.heapProfile != "" && o.inprocess && o.fanout > 0 {
		if err := writeHeapProfile(o.heapProfile + ".fanout"); err != nil {
			return err
		}
	}
	if len(all) > 0 {
		slices.Sort(all)
		fmt.Printf("fan-out, %d changes × %d agents: p50 %.0f ms, p99 %.0f ms, max %.0f ms\n", o.fanout, n,
			ms(pct(all, 50)), ms(pct(all, 99)), ms(all[len(all)-1]))
		// Every agent's next report after a change names its revision:
		// the writes of the replicas' held-revision records it costs, or
		// with -full-reports one report write per agent per change (fewer
		// when two changes fall in one report interval), in how many etcd
		// transactions.
		if err := sleepCtx(ctx, o.interval); err != nil {
			return err
		}
		fanRev1, _, _, err := etcdState(ctx, env.st)
		if err != nil {
			return err
		}
		rest := "writes of the replicas' held-revision records"
		if o.fullReports {
			rest = "transactions of report writes"
		}
		fmt.Printf("etcd revisions from the first change to a report interval after the last: %d (%d changes; the rest are %s, for up to %d acknowledgements)\n",
			fanRev1-fanRev0, o.fanout, rest, o.fanout*n)
	}
	if o.failover {
		if err := failover(ctx, env, agents, validationtest.PopName(n)); err != nil {
			return err
		}
	}
	if o.soak > 0 {
		return soak(ctx, env, agents, o.soak, o.soakEvery)
	}
	return nil
}

// spread says how many agents stream from each replica, when there are
// several.
func spread(env *fleetEnv, agents []*simAgent) string {
	if len(env.ctls) < 2 {
		return ""
	}
	on := map[string]int{}
	for _, a := range agents {
		r, _ := a.current()
		on[r]++
	}
	var parts []string
	for _, c := range env.ctls {
		parts = append(parts, fmt.Sprintf("%s %d", c.name, on[c.addr]))
	}
	return "; streaming from " + strings.Join(parts, ", ")
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

// steady measures over window: each process's CPU (% of a core) and RSS
// at the end, etcd revisions per second and reports sent per second.
func steady(ctx context.Context, env *fleetEnv, agents []*simAgent, window time.Duration) (use string, writes, reports float64, err error) {
	rev0, _, _, err := etcdState(ctx, env.st)
	if err != nil {
		return "", 0, 0, err
	}
	u0, err := env.usage()
	if err != nil {
		return "", 0, 0, err
	}
	r0 := sentReports(agents)
	if err := env.ctls[0].inproc.startProfile(); err != nil {
		return "", 0, 0, err
	}
	defer env.ctls[0].inproc.stopProfile()
	wctx, stopWatch := context.WithCancel(ctx)
	counted := make(chan writeCounts, 1)
	go func() { counted <- countStatusWrites(wctx, env.st) }()
	if err := sleepCtx(ctx, window); err != nil {
		stopWatch()
		return "", 0, 0, err
	}
	stopWatch()
	wc := <-counted
	fmt.Printf("status keys over the window: %d created (a stream's first report), %d updated, %d deleted (a stream ended or went silent); %v\n", wc.created, wc.updated, wc.deleted, endReasons(agents))
	u1, err := env.usage()
	if err != nil {
		return "", 0, 0, err
	}
	rev1, _, _, err := etcdState(ctx, env.st)
	if err != nil {
		return "", 0, 0, err
	}
	el := u1.at.Sub(u0.at).Seconds()
	return u1.since(u0), float64(rev1-rev0) / el, float64(sentReports(agents)-r0) / el, nil
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
		// An attempt that timed out may have been written: the change
		// is then the stored service's version.
		got, err := c.admin.Get(ctx, &v1.GetRequest{Kind: v1.Kind_KIND_ANYCAST_SERVICE, Name: svc.GetMetadata().GetName()})
		if err != nil {
			return nil, fmt.Errorf("fan-out %d: reading back the service: %w", trial, err)
		}
		stored := got.GetObject().GetAnycastService()
		if rev = resource.Meta(got.GetObject()).GetResourceVersion(); rev == 0 || !proto.Equal(stored.GetSpec(), svc.GetSpec()) {
			return nil, fmt.Errorf("fan-out apply %d changed nothing", trial)
		}
		fmt.Printf("fan-out %d: an earlier attempt was written, at revision %d\n", trial, rev)
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
func soak(ctx context.Context, env *fleetEnv, agents []*simAgent, d, every time.Duration) error {
	fmt.Printf("soak for %s: elapsed, etcd revision, db size, db in use, reports/s; each process's CPU over the interval and RSS\n", d)
	end := time.Now().Add(d)
	u0, err := env.usage()
	if err != nil {
		return err
	}
	r0, began := sentReports(agents), time.Now()
	for time.Now().Before(end) {
		if err := sleepCtx(ctx, min(every, time.Until(end))); err != nil {
			return err
		}
		rev, size, inUse, err := etcdState(ctx, env.st)
		if err != nil {
			return err
		}
		u1, err := env.usage()
		if err != nil {
			return err
		}
		r1 := sentReports(agents)
		el := u1.at.Sub(u0.at).Seconds()
		fmt.Printf("soak %6s  rev %8d  db %7.1f MiB  in use %7.1f MiB  reports %5.0f/s  streams ended (and redialled) %d\n  %s\n",
			u1.at.Sub(began).Round(time.Second), rev, float64(size)/(1<<20), float64(inUse)/(1<<20),
			float64(r1-r0)/el, failures(agents), u1.since(u0))
		u0, r0 = u1, r1
	}
	return nil
}

// etcdState is the etcd revision and database size (file and in use) of
// the store's first endpoint.
func etcdState(ctx context.Context, st *store.Store) (rev, size, inUse int64, err error) {
	s, err := st.DBStatus(ctx)
	return s.Revision, s.Size, s.InUse, err
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
func countStatusWrites(ctx context.Context, st *store.Store) writeCounts {
	k := &writeCounter{}
	st.StatusMirror(k).Run(ctx)
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
var (
	reasonPop  = regexp.MustCompile(`PoP "[^"]*"`)
	reasonAddr = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+:\d+`)
)

func endReasons(agents []*simAgent) map[string]int {
	out := map[string]int{}
	for _, a := range agents {
		if err := a.failed.Load(); err != nil {
			// PoP names and addresses are left out, so that one reason is
			// one line however many agents it ended.
			msg := reasonPop.ReplaceAllString((*err).Error(), "PoP")
			msg = reasonAddr.ReplaceAllString(msg, "ADDR")
			if len(msg) > 80 {
				msg = msg[:80]
			}
			out[msg]++
		}
	}
	return out
}
