//go:build linux

package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anyctl/anyctl/bench/gslbscale"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// bench is a running deployment: the controller, the DNS server, the
// agents and the feed tap.
type bench struct {
	o      options
	decl   declared
	ctl    *controllerProc
	dns    *proc
	agents []*agent
	tap    *tap
	res    *resolver
	// record is the record asked for.
	record *v1.GslbRecord
	// cancel ends the agents and the tap.
	cancel context.CancelFunc
}

func run(ctx context.Context, o options) error {
	ecs, err := netip.ParsePrefix(o.ecs)
	if err != nil {
		return fmt.Errorf("-ecs %q: %w", o.ecs, err)
	}
	load0 := loadavg()
	fmt.Printf("gslbe2e: %d networks, %d locations, %d records, %d origins, seed %d; %d repetitions, a query every %s; GOMAXPROCS %d\n",
		o.networks, o.locations, o.records, o.origins, o.seed, o.reps, o.poll, runtime.GOMAXPROCS(0))
	db := o.db
	if db == "" {
		start := time.Now()
		var generated bool
		if db, generated, err = gslbscale.CachedGeoDB(o.networks, o.locations, o.seed); err != nil {
			return err
		}
		if generated {
			fmt.Printf("geoip db generated in %s: %s\n", ms(time.Since(start)), db)
		} else {
			fmt.Printf("geoip db (cached): %s\n", db)
		}
	}
	work, err := os.MkdirTemp("", "anyctl-gslbe2e-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Printf("logs and data kept in %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	bin := o.anyctl
	if bin == "" {
		if bin, err = build(ctx, work); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	b := &bench{o: o, decl: declare(o.records, o.origins, o.seed), tap: &tap{}, cancel: cancel}
	if b.record = pick(b.decl.Records); b.record == nil {
		return fmt.Errorf("no nearest A record of origins among the %d records", o.records)
	}
	defer b.stop()
	if err := b.start(ctx, bin, work, db, ecs); err != nil {
		return err
	}
	for _, m := range []func(context.Context) error{b.ttlChanges, b.addressChanges, b.healthChanges} {
		if err := m(ctx); err != nil {
			return err
		}
	}
	fmt.Printf("\nload average (1, 5, 15 min) %s at the end, %s at the start\n", loadavg(), load0)
	return nil
}

// loadavg reads the machine's load averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// build builds anyctl into dir.
func build(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		return "", fmt.Errorf("building anyctl: run in the module's tree, or give -anyctl (go env GOMOD: %v)", err)
	}
	bin := filepath.Join(dir, "anyctl")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cli/anyctl")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(out)))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cli/anyctl: %w\n%s", err, out)
	}
	return bin, nil
}

// pick returns the first record answering with the nearest of its
// origins: one address, moved by its origins' health.
func pick(records []*v1.GslbRecord) *v1.GslbRecord {
	for _, r := range records {
		s := r.GetSpec()
		if s.GetPolicy() == v1.Policy_POLICY_NEAREST && s.GetType() == v1.RecordType_RECORD_TYPE_A &&
			s.GetPops() == nil && len(s.GetResidency()) == 0 && len(s.GetOrigins()) >= 2 {
			return r
		}
	}
	return nil
}

func (b *bench) stop() {
	b.cancel()
	if b.dns != nil {
		b.dns.stop()
	}
	if b.ctl != nil {
		b.ctl.stop()
	}
}

// start runs the controller, applies the objects, connects the agents and
// the tap, then starts the DNS server cold and times its first answer.
func (b *bench) start(ctx context.Context, bin, work, db string, ecs netip.Prefix) error {
	var err error
	start := time.Now()
	if b.ctl, err = startController(ctx, bin, work); err != nil {
		return err
	}
	fmt.Printf("controller serving in %s (%s)\n", ms(time.Since(start)), b.ctl.addr)
	objs := b.decl.Objects()
	start = time.Now()
	for len(objs) > 0 {
		batch := objs[:min(1000, len(objs))]
		objs = objs[len(batch):]
		actx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		_, err := b.ctl.admin.Apply(actx, &v1.ApplyRequest{Objects: batch})
		cancel()
		if err != nil {
			return fmt.Errorf("apply: %w", err)
		}
	}
	fmt.Printf("applied %d PoPs, %d origins, 1 zone, %d records in %s\n",
		len(b.decl.Pops), len(b.decl.Origins), len(b.decl.Records), ms(time.Since(start)))

	for _, p := range b.decl.Snapshot.GetPops() {
		a := newAgent(p)
		b.agents = append(b.agents, a)
		go func() {
			if err := a.run(ctx, b.ctl.addr, b.o.interval); err != nil {
				fmt.Fprintf(os.Stderr, "gslbe2e: %v\n", err)
			}
		}()
	}
	for _, a := range b.agents {
		select {
		case <-a.first:
		case <-time.After(time.Minute):
			return fmt.Errorf("agent %s had no config a minute after connecting", a.pop)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	go func() {
		if err := b.tap.run(ctx, b.ctl.addr); err != nil {
			fmt.Fprintf(os.Stderr, "gslbe2e: %v\n", err)
		}
	}()
	// The controller takes the agents' first reports and the tap's
	// subscription before the DNS server starts.
	if err := b.settle(ctx); err != nil {
		return err
	}
	ctlCPU := b.ctl.cpu()
	rss, _ := b.ctl.rssKB()
	fmt.Printf("%d agents reporting; controller CPU so far %s, RSS %s\n", len(b.agents), ms(ctlCPU), kib(rss))

	addr, err := dnsAddr()
	if err != nil {
		return err
	}
	name := b.record.GetSpec().GetName() + "." + b.decl.Zone.GetSpec().GetZone()
	b.res = newResolver(addr, name, ecs)
	state := filepath.Join(work, "dns-state")
	if b.dns, err = startDNS(bin, work, b.ctl.addr, addr, db, state); err != nil {
		return err
	}
	a, err := b.res.await(ctx, 10*time.Millisecond, 5*time.Minute, func(a answer) bool { return a.rcode == 0 && len(a.addrs) > 0 })
	if err != nil {
		return fmt.Errorf("dns server's first answer: %w (see %s)", err, b.dns.log)
	}
	first := a.at.Sub(b.dns.start)
	dnsCPU, ctlCPU2 := b.dns.cpu(), b.ctl.cpu()
	rss, hwm := b.dns.rssKB()
	fmt.Printf("\ncold start (empty state directory) to the first answer through the feed: %s, DNS server CPU %s, controller CPU %s, RSS %s (peak %s)\n",
		ms(first), ms(dnsCPU), ms(ctlCPU2-ctlCPU), kib(rss), kib(hwm))
	fmt.Printf("  %s: %s (origin %s)\n", name, a, b.originOf(a))
	if err := b.settle(ctx); err != nil {
		return err
	}
	for _, msg := range []string{"gslb feed connected", "dns read the GeoIP database", "gslb snapshot applied"} {
		if t, _, ok := b.dns.logged(msg, b.dns.start); ok {
			fmt.Printf("  %q logged at %s\n", msg, ms(t.Sub(b.dns.start)))
		}
	}
	rss, hwm = b.dns.rssKB()
	fmt.Printf("  settled after %s: DNS server CPU %s, RSS %s (peak %s)\n", ms(time.Since(b.dns.start)), ms(b.dns.cpu()), kib(rss), kib(hwm))
	return nil
}

// dnsAddr returns a loopback address whose port is free for UDP and TCP.
func dnsAddr() (string, error) {
	for range 20 {
		port, err := freePort("tcp")
		if err != nil {
			return "", err
		}
		c, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			c.Close()
			return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
		}
	}
	return "", fmt.Errorf("no port free for both UDP and TCP on 127.0.0.1")
}

// originOf names the origin an answer gives ("" when none).
func (b *bench) originOf(a answer) string {
	for _, o := range b.decl.Origins {
		for _, addr := range o.GetSpec().GetAddresses() {
			if slices.Contains(a.addrs, addr) {
				return o.GetMetadata().GetName()
			}
		}
	}
	return ""
}

// settle waits until the controller and the DNS server are quiet (under
// 20 ms of CPU between them in 500 ms) and no snapshot frame came for a
// second; at most two minutes.
func (b *bench) settle(ctx context.Context) error {
	cpu := func() time.Duration {
		c := b.ctl.cpu()
		if b.dns != nil {
			c += b.dns.cpu()
		}
		return c
	}
	deadline := time.Now().Add(2 * time.Minute)
	prev := cpu()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		now := cpu()
		if now-prev < 20*time.Millisecond && time.Since(b.tap.last()) > time.Second {
			return nil
		}
		prev = now
		if time.Now().After(deadline) {
			fmt.Println("  (not quiet after two minutes; going on)")
			return nil
		}
		if b.ctl.dead() || (b.dns != nil && b.dns.dead()) {
			return fmt.Errorf("a daemon exited: see %s and %s", b.ctl.log, filepath.Join(filepath.Dir(b.ctl.log), "dns.log"))
		}
	}
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
}

func kib(kb int) string { return fmt.Sprintf("%.0f MiB", float64(kb)/1024) }
