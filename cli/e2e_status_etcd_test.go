package cli_test

import (
	"strings"
	"testing"
	"time"

	"github.com/anyctl/anyctl/controller/controllertest"
	"github.com/anyctl/anyctl/controller/etcdembed/etcdembedtest"
)

// startBehindProxy runs a controller whose etcd is reached through a
// proxy that can slow or cut the path; anyctl status says nothing of
// etcd while it answers promptly.
func startBehindProxy(t *testing.T) (*controllertest.Running, *etcdembedtest.CutProxy) {
	t.Helper()
	c, proxy := controllertest.StartBehindProxy(t)
	if out := anyctl(t, c.Addr, "", "status").stdout; strings.Contains(out, "CONTROLLER") {
		t.Fatalf("anyctl status while etcd answers promptly:\n%s", out)
	}
	return c, proxy
}

// awaitStatus runs anyctl status until its output holds want, for 30 s
// at most.
func awaitStatus(t *testing.T, c *controllertest.Running, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := anyctl(t, c.Addr, "", "status").stdout
		if strings.Contains(out, want) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s, anyctl status does not say %q:\n%s", want, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// etcdLateness reads the duration anyctl status prints after prefix,
// up to the next space or colon.
func etcdLateness(t *testing.T, out, prefix string) time.Duration {
	t.Helper()
	_, rest, ok := strings.Cut(out, prefix)
	if !ok {
		t.Fatalf("anyctl status does not say %q:\n%s", prefix, out)
	}
	end := strings.IndexAny(rest, " :")
	if end < 0 {
		end = len(rest)
	}
	d, err := time.ParseDuration(rest[:end])
	if err != nil {
		t.Fatalf("anyctl status: %q followed by %q: %v", prefix, rest[:end], err)
	}
	return d
}

// TestStatusShowsEtcdSlow: `anyctl status` says when etcd answers the
// replica slowly (in 1.6 s here, not milliseconds), with the round
// trip, and does not call it degraded.
func TestStatusShowsEtcdSlow(t *testing.T) {
	c, proxy := startBehindProxy(t)
	proxy.Delay(800 * time.Millisecond)
	const slow = "CONTROLLER ETCD SLOW: etcd answers this replica in "
	out := awaitStatus(t, c, slow)
	t.Logf("etcd slowed to a 1.6 s round trip, anyctl status:\n%s", out)
	if rtt := etcdLateness(t, out, slow); rtt < 1500*time.Millisecond {
		t.Errorf("etcd slowed to a 1.6 s round trip: anyctl status says it answers in %s", rtt)
	}
	if strings.Contains(out, "DEGRADED") {
		t.Errorf("etcd slow but answering: anyctl status says degraded:\n%s", out)
	}
}

// TestStatusShowsEtcdSilent: `anyctl status` says when etcd does not
// answer the replica at all, with how long, before the replica is
// degraded (after 5 s).
func TestStatusShowsEtcdSilent(t *testing.T) {
	c, proxy := startBehindProxy(t)
	proxy.Partition()
	const silent = "CONTROLLER ETCD SILENT: etcd silent for "
	out := awaitStatus(t, c, silent)
	t.Logf("etcd cut off, anyctl status:\n%s", out)
	if d := etcdLateness(t, out, silent); d < 2*time.Second {
		t.Errorf("etcd silent, told from 2 s without an answer: anyctl status says silent for %s", d)
	}
}
