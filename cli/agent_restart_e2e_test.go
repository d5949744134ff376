package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anyctl/anyctl/agent/speaker/speakertest"
	"github.com/anyctl/anyctl/agent/speaker/upstream"
	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/manifest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// restartDesired is one PoP peering with the test's router, and one
// service it announces while a TCP target answers.
const restartDesired = `
apiVersion: anycast.anyctl.io/v1
kind: Pop
metadata: {name: tokyo}
spec:
  location: {latitude: 35.6762, longitude: 139.6503, country: JP, continent: AS, region: apac}
  localAsn: 64512
  routerId: 192.0.2.254
  peers:
    - {address: 127.0.0.1, port: %d, peerAsn: 64500, holdTime: 9s}
    - {address: 127.0.0.2, port: %d, peerAsn: 64501, holdTime: 9s, localAddress: 127.0.0.1}
---
apiVersion: anycast.anyctl.io/v1
kind: AnycastService
metadata: {name: edge}
spec:
  prefixes: [192.0.2.0/24]
  pops: {names: [tokyo]}
  healthCheck: {protocol: tcp, target: "127.0.0.1:%d", interval: 100ms, timeout: 50ms, rise: 3, fall: 2}
`

// agentProc is `anyctl agent` running as its own process.
type agentProc struct {
	cmd  *exec.Cmd
	logs *bytes.Buffer
	done chan error
}

func startAgentProc(t *testing.T, args ...string) *agentProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"agent"}, args...)...)
	cmd.Env = append(os.Environ(), execEnv+"=1")
	p := &agentProc{cmd: cmd, logs: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the agent: %v", err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("agent log:\n%s", p.logs)
		}
	})
	return p
}

// signal sends sig and waits for the process to exit.
func (p *agentProc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signalling the agent: %v", err)
	}
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("agent exited with %v after %v\nlog:\n%s", err, sig, p.logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("agent still running 30s after %v", sig)
	}
}

// TestAgentRestartMovesNothing runs the agent with graceful restart as a
// process, peering with two routers, SIGTERMs it and starts it again: each
// router keeps the route throughout (stale while the agent is away) and its
// best path is never withdrawn, at the router that reconnects first and at
// the one that reconnects second. Then SIGINT stops it for good: the route
// goes. (GoBGP routers keep stale routes even from an OPEN without the
// Restart State bit, so the bits each OPEN carries after a restart, see
// speaker/restart.go, are checked in the lab, against FRR and BIRD.)
func TestAgentRestartMovesNothing(t *testing.T) {
	ctrl := controllertest.Start(t)
	r := speakertest.StartRouter(t, 64500)
	r.AddNeighbor(t, netip.MustParseAddr("127.0.0.1"), 64512, upstream.WithGracefulRestart(60*time.Second))
	r2 := speakertest.StartRouter(t, 64501, speakertest.ListenOn(netip.MustParseAddr("127.0.0.2")))
	r2.AddNeighbor(t, netip.MustParseAddr("127.0.0.1"), 64512, upstream.WithGracefulRestart(60*time.Second))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	objs, err := manifest.Decode(strings.NewReader(fmt.Sprintf(restartDesired, r.Port(), r2.Port(), lis.Addr().(*net.TCPAddr).Port)), "desired.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if _, err := ctrl.Admin.Apply(ctx, &v1.ApplyRequest{Objects: objs}); err != nil {
		t.Fatalf("apply: %v", err)
	}

	state := t.TempDir()
	args := []string{"--pop", "tokyo", "--controller", ctrl.Addr, "--state-dir", state, "--metrics-listen", "",
		"--allowed-prefixes", "192.0.2.0/24", "--graceful-restart", "--shutdown-grace", "1s"}
	edge := netip.MustParsePrefix("192.0.2.0/24")
	first := startAgentProc(t, args...)
	routers := []*speakertest.Router{r, r2}
	var changes []*speakertest.Changes
	for _, rt := range routers {
		rt.AwaitRoute(t, edge, nil)
		changes = append(changes, rt.WatchBest(t, edge))
	}
	loopback := netip.MustParseAddr("127.0.0.1")

	first.signal(t, syscall.SIGTERM)
	for _, rt := range routers {
		rt.AwaitDown(t, loopback)
		if route, ok := rt.Route(t, edge); !ok || !route.Stale {
			t.Fatalf("after SIGTERM with graceful restart router AS%d has %v (found %v), want the route kept, stale", rt.ASN(), route, ok)
		}
	}
	if _, err := os.Stat(filepath.Join(state, "restart.json")); err != nil {
		t.Errorf("the agent left no restart record: %v", err)
	}
	second := startAgentProc(t, args...)
	for i, rt := range routers {
		rt.AwaitEstablished(t, loopback)
		rt.AwaitRoute(t, edge, func(route speakertest.Route) bool { return !route.Stale })
		if n := changes[i].Withdrawn(); n != 0 {
			t.Errorf("router AS%d withdrew its best path for %s %d times during the restart, want 0", rt.ASN(), edge, n)
		}
		t.Logf("restart: router AS%d best path withdrawn %d times, replaced %d times", rt.ASN(), changes[i].Withdrawn(), changes[i].Updated())
	}
	if !strings.Contains(second.logs.String(), "resuming after a restart") {
		t.Errorf("the second agent did not resume; log:\n%s", second.logs)
	}

	second.signal(t, syscall.SIGINT)
	r.AwaitNoRoute(t, edge)
	r2.AwaitNoRoute(t, edge)
	if got := r.LastNotification(); !strings.HasPrefix(got, "6/2 ") {
		t.Errorf("router received NOTIFICATION %q after SIGINT, want Cease/administrative shutdown", got)
	}
}
