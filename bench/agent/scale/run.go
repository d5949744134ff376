//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/anyctl/anyctl/agent/speaker/upstream"
	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

const (
	defaultTimeout = 5 * time.Minute
	defaultSettle  = 10 * time.Second
	// pollEvery is how often the routers' tables are counted.
	pollEvery = 20 * time.Millisecond
)

type options struct {
	services, perService int
	anyctl               string
	timeout, settle      time.Duration
}

// run sets everything up, measures, and tears it all down again.
func run(ctx context.Context, o options) error {
	total := o.services * o.perService
	work, err := os.MkdirTemp("", "anyctl-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	bin := o.anyctl
	if bin == "" {
		bin = filepath.Join(work, "anyctl")
		fmt.Printf("building anyctl into %s\n", work)
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cli/anyctl")
		build.Dir, err = moduleRoot(ctx)
		if err != nil {
			return err
		}
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cli/anyctl: %w\n%s", err, out)
		}
	}

	ctrlAddr, stopCtrl, err := startController(ctx, filepath.Join(work, "controller"))
	if err != nil {
		return err
	}
	defer stopCtrl()
	r1, err := startRouter(ctx, router1, routerASN, agentAddr, popASN)
	if err != nil {
		return err
	}
	defer r1.Stop()
	r2, err := startRouter(ctx, router2, routerASN, agentAddr, popASN)
	if err != nil {
		return err
	}
	defer r2.Stop()
	target, err := startTarget()
	if err != nil {
		return err
	}
	defer target.Close()

	fmt.Printf("applying %d services × %d prefixes = %d IPv4 /24s\n", o.services, o.perService, total)
	checkPort := target.Addr().(interface{ AddrPort() netip.AddrPort }).AddrPort().Port()
	applyTook, err := apply(ctx, ctrlAddr, desiredYAML(r1, r2, o.services, o.perService, int(checkPort)))
	if err != nil {
		return err
	}

	cfgPath := filepath.Join(work, "agent.yaml")
	if err := os.WriteFile(cfgPath, []byte(agentYAML(ctrlAddr, filepath.Join(work, "agent-state"), total)), 0o600); err != nil {
		return err
	}
	logPath := filepath.Join(work, "agent.log")
	agent, err := startAgent(bin, cfgPath, logPath)
	if err != nil {
		return err
	}
	defer agent.kill()
	fail := func(err error) error {
		log, _ := os.ReadFile(logPath)
		return fmt.Errorf("%w\nagent log:\n%s", err, tail(string(log), 40))
	}

	m, err := watchRamp(ctx, agent, r1, r2, total, o.timeout)
	if err != nil {
		return fail(err)
	}
	hwmDone, err := agent.memKB("VmHWM")
	if err != nil {
		return fail(err)
	}
	cpuDone, err := agent.cpu()
	if err != nil {
		return fail(err)
	}
	if err := waitCtx(ctx, o.settle); err != nil {
		return err
	}
	if err := agent.alive(); err != nil {
		return fail(err)
	}
	hwmSettled, err1 := agent.memKB("VmHWM")
	rssSettled, err2 := agent.memKB("VmRSS")
	cpuSettled, err3 := agent.cpu()
	if err := errors.Join(err1, err2, err3); err != nil {
		return fail(err)
	}
	stopTook, err := agent.stop(30 * time.Second)
	if err != nil {
		return fail(err)
	}

	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	fmt.Printf("\n%d prefixes to 2 peers; the agent in its own process, controller and routers in this one\n", total)
	fmt.Printf("  apply (validate, store; %d services)        %v\n", o.services, ms(applyTook))
	fmt.Printf("  agent start → session up        (r1, r2)   %v, %v\n", ms(m.established[0]), ms(m.established[1]))
	fmt.Printf("  session up → all %d prefixes  (r1, r2)   %v, %v\n", total, ms(m.all[0]-m.established[0]), ms(m.all[1]-m.established[1]))
	fmt.Printf("  agent start → all prefixes at both routers %v\n", ms(max(m.all[0], m.all[1])))
	fmt.Printf("  agent CPU time until then                  %v\n", cpuDone)
	fmt.Printf("  agent VmHWM then                           %.1f MiB (highest VmRSS sampled %.1f MiB)\n", mib(hwmDone), mib(m.peakRSS))
	fmt.Printf("  agent VmHWM, VmRSS %v later              %.1f MiB, %.1f MiB (CPU time %v in all)\n", o.settle, mib(hwmSettled), mib(rssSettled), cpuSettled)
	fmt.Printf("  SIGTERM → exit (shutdownGrace 1s)          %v\n", ms(stopTook))
	return nil
}

// ramp is what watchRamp saw, each time since the agent started, per
// router.
type ramp struct {
	established, all [2]time.Duration
	// peakRSS is the highest VmRSS sampled, in kB.
	peakRSS int
}

// watchRamp counts both routers' tables until both hold total prefixes,
// sampling the agent's resident memory as it goes.
func watchRamp(ctx context.Context, agent *agentProc, r1, r2 *upstream.Router, total int, timeout time.Duration) (ramp, error) {
	var m ramp
	routers := [2]*upstream.Router{r1, r2}
	deadline := agent.started.Add(timeout)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	var counts [2]int
	lastShown := time.Duration(0)
	for {
		since := time.Since(agent.started)
		if rss, err := agent.memKB("VmRSS"); err == nil {
			m.peakRSS = max(m.peakRSS, rss)
		}
		for i, r := range routers {
			if m.established[i] == 0 && established(ctx, r) {
				m.established[i] = since
			}
			if m.all[i] != 0 {
				continue
			}
			n, err := prefixCount(ctx, r)
			if err != nil {
				return m, err
			}
			if counts[i] = n; n == total {
				m.all[i] = since
			}
		}
		if m.all[0] != 0 && m.all[1] != 0 {
			return m, nil
		}
		if since-lastShown >= time.Second {
			lastShown = since
			fmt.Printf("  %4.1fs: routers hold %d and %d prefixes\n", since.Seconds(), counts[0], counts[1])
		}
		if err := agent.alive(); err != nil {
			return m, err
		}
		if time.Now().After(deadline) {
			return m, fmt.Errorf("after %v the routers hold %d and %d of %d prefixes", timeout, counts[0], counts[1], total)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return m, ctx.Err()
		}
	}
}

// startController runs a controller allowed scaleSpace on a free loopback
// port, and returns its address and a function that stops it.
func startController(ctx context.Context, dataDir string) (string, func(), error) {
	c, err := controller.New(controller.Config{
		Listen:          "127.0.0.1:0",
		DataDir:         dataDir,
		AllowedPrefixes: []netip.Prefix{scaleSpace},
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return "", nil, err
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- c.Run(cctx) }()
	stop := func() {
		cancel()
		<-done
	}
	select {
	case <-c.Ready():
		return c.Addr().String(), stop, nil
	case err := <-done:
		cancel()
		return "", nil, fmt.Errorf("controller stopped before it was ready: %w", err)
	case <-ctx.Done():
		stop()
		return "", nil, ctx.Err()
	}
}

// apply applies the desired state and returns how long Apply took.
func apply(ctx context.Context, addr, desired string) (time.Duration, error) {
	objs, err := manifest.Decode(strings.NewReader(desired), "scale.yaml")
	if err != nil {
		return 0, fmt.Errorf("decoding the generated desired state: %w", err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	actx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	began := time.Now()
	if _, err := v1.NewAdminServiceClient(conn).Apply(actx, &v1.ApplyRequest{Objects: objs}); err != nil {
		return 0, fmt.Errorf("apply: %w", err)
	}
	return time.Since(began), nil
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

func mib(kb int) float64 { return float64(kb) / 1024 }

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
